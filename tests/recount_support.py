"""Synthetic trajectory logs for re-count tests: three people around one horizontal line.

The line runs from (100, 300) to (1100, 300); walking up the image (y falling)
crosses it *in* (``LineZone``'s sides). ``walks`` makes the ``tracks.minute``
envelopes the pipeline's own producer writes for them, ``live_crossings`` the
two ``line.crossed`` events a live counter raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from argus.domain.event_payloads import LineCrossed
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame
from argus.services.track_log import MinuteTracks
from tests.factories import make_detections, solid_image

__all__ = ["LINE", "SAMPLES", "live_crossings", "walks"]

LINE: dict[str, object] = {"name": "door", "start": [100, 300], "end": [1100, 300]}
SAMPLES = 60 * 2 + 28 + 29
"""Samples of ``walks``: two people for 12 s at 5 Hz; the third 28 before its gap, 29 after."""
_FRAME = Frame(solid_image(720, 1280), 0, 0.0, "test")


def walks(source: EventSource, start: datetime) -> list[Envelope]:
    """Three people for 12 s from ``start``: one up across the line, one down, one lost across it.

    The third is tracked up to 30 px below the line, lost for 0.8 s, and found
    again under a new id 10 px above it, walking on at the same speed: a live
    counter misses that crossing, a re-count with look-ahead stitches it. The
    re-count should find 2 in and 1 out; the live counter raised 1 and 1.
    """
    log = MinuteTracks(source, ("person",), run=1)
    out: list[Envelope] = []
    for step in range(60):
        s = step / 5
        boxes = [(400.0, 500.0 - 40 * s, 1), (700.0, 100.0 + 40 * s, 2)]
        y = 600.0 - 50 * s
        if y >= 330:
            boxes.append((1000.0, y, 3))
        elif y <= 290:
            boxes.append((1000.0, y, 4))
        detections = make_detections(
            [[x - 20, y - 100, x + 20, y] for x, y, _ in boxes],
            class_id=[0] * len(boxes),
            tracker_id=[i for *_, i in boxes],
        )
        out.extend(log.add(start + timedelta(seconds=s), _FRAME, detections))
    return [*out, *log.flush()]


def live_crossings(source: EventSource, start: datetime) -> list[Envelope]:
    """The live counter's two crossings of ``walks`` (the first in, the second out)."""
    return [
        Envelope.wrap(
            LineCrossed(
                line="door",
                track_id=track_id,
                class_id=0,
                class_name="person",
                direction="in" if track_id == 1 else "out",
                timestamp=5.0,
                confidence=0.9,
            ),
            source,
            start + timedelta(seconds=5),
        )
        for track_id in (1, 2)
    ]
