"""The embedded edge worker: camera pipelines supervised in threads."""

from argus.adapters.pipelines.edge import EdgePipelines, PipelineDetail
from argus.adapters.pipelines.scene import (
    DEMO_CAMERA_ID,
    DEMO_DEFAULTS,
    DetectDefaults,
    camera_scene,
    demo_camera,
)
from argus.adapters.pipelines.sources import SourceOptions, open_camera
from argus.adapters.pipelines.worker import RestartPolicy, WorkerDeps

__all__ = [
    "DEMO_CAMERA_ID",
    "DEMO_DEFAULTS",
    "DetectDefaults",
    "EdgePipelines",
    "PipelineDetail",
    "RestartPolicy",
    "SourceOptions",
    "WorkerDeps",
    "camera_scene",
    "demo_camera",
    "open_camera",
]
