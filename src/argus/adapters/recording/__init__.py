"""Continuous recording: MP4 segments remuxed from a camera's stream, and their index.

``SegmentRecorder`` copies a stream's packets into segments without
re-encoding; ``SegmentIndex`` lists the segments on disk and deletes what a
retention plan (``argus.domain.recording.plan_retention``) names.
"""

from argus.adapters.recording.index import SegmentIndex, segment_path
from argus.adapters.recording.remux import RecorderStats, SegmentRecorder

__all__ = ["RecorderStats", "SegmentIndex", "SegmentRecorder", "segment_path"]
