"""Frame cues for the tracker: camera motion, appearance, and the tracker that uses them.

Synthetic images check the estimator and the histograms exactly, scripted
motion checks the tracker's use of it, and the composition root and the
analyzer are checked to hand the cues on. Real frames: ``test_frame_cues_real.py``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.tracking.appearance import ColourHistogramAppearance
from argus.adapters.tracking.camera_motion import SparseFlowMotion
from argus.adapters.tracking.cued import CuedTracker
from argus.bootstrap.container import Container, make_cued_tracker, make_tracker
from argus.config import Settings
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.ports.tracker import AppearanceModel, BoxTracker, CameraMotion, Tracker
from argus.scene import CameraSpec, Scene, TrackerSpec
from argus.services.analysis import Analyzer
from tests.factories import ListSource, ScriptedDetector, make_detections

Image = npt.NDArray[np.uint8]


def texture(height: int, width: int, seed: int = 0) -> Image:
    """A smooth random texture (blurred noise), BGR: corners everywhere, no repeats."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    return np.asarray(np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255), np.uint8)


def shifted(image: Image, dx: int, dy: int, size: tuple[int, int]) -> tuple[Image, Image]:
    """Two windows of ``image`` whose content moves by ``(dx, dy)`` from the first to the second."""
    w, h = size
    x0, y0 = 40, 40
    first = np.ascontiguousarray(image[y0 : y0 + h, x0 : x0 + w])
    second = np.ascontiguousarray(image[y0 - dy : y0 - dy + h, x0 - dx : x0 - dx + w])
    return first, second


# --- ports -----------------------------------------------------------------


def test_the_cue_adapters_implement_their_ports() -> None:
    assert isinstance(SparseFlowMotion(), CameraMotion)
    assert isinstance(ColourHistogramAppearance(), AppearanceModel)
    cued = make_cued_tracker()
    assert isinstance(cued, Tracker)
    assert isinstance(make_tracker(), BoxTracker)


# --- camera motion -----------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "dx", "dy"),
    [((320, 240), 5, -3), ((320, 240), -6, 2), ((960, 540), 12, -7), ((960, 540), -3, 0)],
    ids=["small-right-up", "small-left-down", "large-right-up", "large-left"],
)
def test_a_known_shift_is_recovered_in_full_resolution_pixels(
    size: tuple[int, int], dx: int, dy: int
) -> None:
    first, second = shifted(texture(size[1] + 80, size[0] + 80), dx, dy, size)
    motion = SparseFlowMotion()
    assert motion.estimate(first) is None  # nothing to compare with yet
    warp = motion.estimate(second)
    assert warp is not None
    assert warp.shape == (2, 3)
    np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.01)
    np.testing.assert_allclose(warp[:, 2], [dx, dy], atol=0.25)


def test_a_rotation_and_zoom_are_recovered_in_full_resolution_pixels() -> None:
    image = texture(540, 960, seed=3)
    # 1 degree about (400, 300), 1 % zoom and a shift: the second frame is the first, warped.
    truth = np.asarray(cv2.getRotationMatrix2D((400.0, 300.0), 1.0, 1.01), dtype=np.float64)
    truth[:, 2] += np.array([3.0, -2.0])
    second = np.asarray(cv2.warpAffine(image, truth, (960, 540)), dtype=np.uint8)
    motion = SparseFlowMotion()
    motion.estimate(image)
    warp = motion.estimate(second)
    assert warp is not None
    # Compare where the maps send points spread over the view, not the raw coefficients.
    points = np.array([[100.0, 100.0, 1.0], [860.0, 100.0, 1.0], [480.0, 440.0, 1.0]])
    np.testing.assert_allclose(points @ warp.T, points @ truth.T, atol=0.5)


def test_a_blank_view_a_new_size_and_a_reset_give_no_estimate() -> None:
    motion = SparseFlowMotion()
    blank = np.full((240, 320, 3), 90, dtype=np.uint8)
    motion.estimate(blank)
    assert motion.estimate(blank) is None
    first, second = shifted(texture(320, 400), 4, 4, (320, 240))
    motion.estimate(first)
    assert motion.estimate(np.ascontiguousarray(second[:200])) is None  # another size
    motion.estimate(first)
    motion.reset()
    assert motion.estimate(second) is None


def test_the_detections_boxes_are_left_out() -> None:
    # The background moves right by 4; a large "person" over the middle moves left by 10.
    background = texture(320, 400, seed=1)
    person = texture(200, 160, seed=2)
    first, second = shifted(background, 4, 0, (320, 240))
    first[20:220, 80:240] = person
    second[20:220, 70:230] = person
    boxes = [[80, 20, 240, 220]]
    motion = SparseFlowMotion()
    motion.estimate(first, make_detections(boxes))
    warp = motion.estimate(second, make_detections([[70, 20, 230, 220]]))
    assert warp is not None
    np.testing.assert_allclose(warp[:, 2], [4, 0], atol=0.25)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        SparseFlowMotion(width=8)
    with pytest.raises(ValidationError):
        SparseFlowMotion(window=3)
    with pytest.raises(ValidationError):
        ColourHistogramAppearance(inset=0.5)
    with pytest.raises(ValidationError):
        SparseFlowMotion().estimate(np.zeros((2, 2, 2, 2), dtype=np.uint8))


# --- appearance ----------------------------------------------------------------


def person(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image:
    """A 100x200 frame holding one 40x80 'person' at (30, 60) on grey."""
    image = np.full((200, 100, 3), 128, dtype=np.uint8)
    image[60:100, 30:70] = top
    image[100:140, 30:70] = bottom
    return image


def test_embeddings_are_unit_vectors_and_tell_top_from_bottom() -> None:
    model = ColourHistogramAppearance()
    box = make_detections([[30, 60, 70, 140]])
    red_over_blue = model.embed(person((0, 0, 200), (200, 0, 0)), box)
    blue_over_red = model.embed(person((200, 0, 0), (0, 0, 200)), box)
    again = model.embed(person((0, 0, 200), (200, 0, 0)), box)
    assert red_over_blue.shape == (1, model.dimensions)
    assert red_over_blue.dtype == np.float32
    assert np.linalg.norm(red_over_blue) == pytest.approx(1.0)
    assert float(red_over_blue[0] @ again[0]) == pytest.approx(1.0)
    # The same colours, swapped between the halves, are another person.
    assert float(red_over_blue[0] @ blue_over_red[0]) < 0.7


def test_boxes_outside_the_image_get_a_neutral_zero_row() -> None:
    model = ColourHistogramAppearance()
    image = person((0, 0, 200), (200, 0, 0))
    out = model.embed(image, make_detections([[30, 60, 70, 140], [150, 10, 190, 90]]))
    assert np.linalg.norm(out[0]) == pytest.approx(1.0)
    assert not out[1].any()
    assert model.embed(image, make_detections([])).shape == (0, model.dimensions)
    with pytest.raises(ValidationError):
        model.embed(image[:, :, 0], make_detections([]))


# --- the cued tracker --------------------------------------------------------------


class _Scripted:
    """A camera-motion estimator that reports scripted horizontal shifts and counts its calls."""

    def __init__(self, shifts: list[float]) -> None:
        self.shifts = shifts
        self.calls = 0
        self.resets = 0

    def estimate(
        self, image: Image, detections: Detections | None = None
    ) -> npt.NDArray[np.float64] | None:
        del image, detections
        dx = self.shifts[self.calls]
        self.calls += 1
        return np.array([[1.0, 0.0, dx], [0.0, 1.0, 0.0]])

    def reset(self) -> None:
        self.resets += 1


def walkers(t: int, camera: float) -> Detections:
    """Two people walking right at 2 px/frame, seen by a camera whose view starts at ``camera``."""
    x = 2.0 * t - camera
    return make_detections([[100 + x, 50, 120 + x, 90], [200 + x, 60, 220 + x, 100]], [0.9, 0.9])


def test_without_a_frame_it_tracks_as_the_box_tracker_does() -> None:
    cued = CuedTracker(make_tracker(), motion=_Scripted([30.0] * 20))
    plain = make_tracker()
    for t in range(20):
        a, b = cued.update(walkers(t, 0.0)), plain.update(walkers(t, 0.0))
        np.testing.assert_array_equal(a.tracker_id, b.tracker_id)
        np.testing.assert_array_equal(a.xyxy, b.xyxy)


def test_a_measured_shake_keeps_identities_through_it() -> None:
    # The view shakes by 30 px from frame to frame: more than a box's width.
    camera = [30.0 * (t % 2) for t in range(8)]
    shifts = [0.0] + [camera[t - 1] - camera[t] for t in range(1, 8)]
    frame = np.zeros((120, 400, 3), dtype=np.uint8)
    motion = _Scripted(shifts)
    cued = CuedTracker(make_tracker(TrackerConfig(box_motion=False)), motion=motion)
    plain = make_tracker(TrackerConfig(box_motion=False))
    plain_ids = []
    for t in range(8):
        out = cued.update(walkers(t, camera[t]), image=frame)
        assert out.tracker_id.tolist() == [1, 2]
        plain_ids.append(plain.update(walkers(t, camera[t])).tracker_id.tolist())
    assert any(ids != [1, 2] for ids in plain_ids)
    assert motion.calls == 8
    cued.reset()
    assert motion.resets == 1
    assert cued.tracker.track_count == 0


def test_frames_without_detections_pass_through_with_both_cues() -> None:
    tracker = make_cued_tracker(TrackerConfig(min_hits=1))
    image = texture(120, 160)
    assert len(tracker.update(make_detections([]), image=image).xyxy) == 0
    out = tracker.update(make_detections([[10, 10, 30, 50]], [0.9]), image=image)
    assert out.tracker_id.tolist() == [1]
    assert len(tracker.update(make_detections([]), image=image).xyxy) == 0


def test_the_composition_root_wires_the_cues_a_scene_asks_for(tmp_path: Path) -> None:
    container = Container(Settings(data_dir=tmp_path))
    default = container.tracker(TrackerSpec(), 10.0)
    assert isinstance(default, CuedTracker)
    assert isinstance(default.motion, SparseFlowMotion)
    assert default.appearance is None  # off unless the scene asks for it
    assert default.tracker.config.frame_rate == 10.0
    full = container.tracker(TrackerSpec(appearance=True), 10.0)
    assert isinstance(full, CuedTracker)
    assert isinstance(full.appearance, ColourHistogramAppearance)
    bare = container.tracker(TrackerSpec(camera_motion=False, appearance=False), 10.0)
    assert isinstance(bare, CuedTracker)
    assert bare.motion is None
    assert bare.appearance is None
    # The MOT evaluation, which has no frames, keeps the box tracker.
    assert type(make_tracker()) is ByteTracker


class _Recording:
    """A ``Tracker`` that passes detections through and keeps the images it was given."""

    def __init__(self) -> None:
        self.images: list[Image | None] = []

    def update(self, detections: Detections, *, image: Image | None = None) -> Detections:
        self.images.append(image)
        return detections

    def reset(self) -> None:
        self.images.clear()


def test_the_analyzer_hands_each_frame_to_the_tracker() -> None:
    tracker = _Recording()
    analyzer = Analyzer(
        Scene(camera=CameraSpec(id="cam")), ScriptedDetector([], ("person",)), tracker
    )
    results = list(analyzer.run(ListSource(3, size=(90, 160))))
    assert len(tracker.images) == 3
    for result, image in zip(results, tracker.images, strict=True):
        assert image is result.frame.image


def test_scene_files_read_the_cue_switches() -> None:
    assert TrackerSpec().camera_motion
    assert not TrackerSpec().appearance
    scene = Scene.model_validate(
        {"camera": {"id": "cam"}, "tracker": {"camera_motion": False, "appearance": True}}
    )
    assert not scene.tracker.camera_motion
    assert scene.tracker.appearance
