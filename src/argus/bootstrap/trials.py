"""Shadow runs and evaluations (issue 21, part D2), wired.

The camera workers and the ``ModelTrials`` service of one process share one
``ShadowPlanBook`` (``shadow_book``, a process-wide singleton like the
hard-example sampler's memory): the service writes plans into it, the
workers' ``ShadowRunner`` observers read them on every frame.
"""

from __future__ import annotations

import functools

from argus.bootstrap.adapters import Adapters
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.models import DetectorOptions, image_decoder
from argus.config import Settings
from argus.ports.detector import Detector
from argus.ports.frame_observers import ObserverFactory
from argus.services.hard_examples import HardExampleService
from argus.services.model_evaluation import EvaluationTools
from argus.services.model_trials import ModelTrials, ShadowPlanBook

__all__ = ["build_trials", "shadow_book", "shadow_observer_factory"]

EVAL_CONFIDENCE = 0.01
"""Confidence floor of an evaluation's detector: AP needs the low-score tail of the curve."""
MAX_FRAME_PIXELS = 4096 * 4096


@functools.cache
def shadow_book() -> ShadowPlanBook:
    """This process's shadow plans."""
    return ShadowPlanBook()


def shadow_observer_factory(settings: Settings, container: Container) -> ObserverFactory:
    """The shadow runner's observer factory for the camera workers."""
    from argus.adapters.pipelines.shadow_runner import shadow_observers

    def candidate(ref: str) -> Detector:
        # One thread: the candidate shares the camera's worker and must not starve it.
        options = DetectorOptions(model=ref, intra_op_threads=1, inter_op_threads=1)
        return container.detector(options)

    return shadow_observers(shadow_book(), candidate, settings.node_id)


def build_trials(
    settings: Settings, adapters: Adapters, examples: HardExampleService
) -> ModelTrials:
    """The trials service: plans in ``shadow_book``, evaluations with faster-coco-eval."""
    from argus.adapters.evaluation.coco_scorer import CocoScorer

    container = build_container(settings)

    def detector(ref: str) -> Detector:
        return container.detector(DetectorOptions(model=ref, conf_threshold=EVAL_CONFIDENCE))

    async def frame(example_id: str) -> bytes:
        return await examples.frame(example_id)

    tools = EvaluationTools(
        detectors=detector,
        frame=frame,
        decode=image_decoder(MAX_FRAME_PIXELS),
        scorer=CocoScorer(),
    )
    return ModelTrials(
        adapters.database,
        adapters.bus,
        events_subject=adapters.events_subject,
        book=shadow_book(),
        tools=tools,
        default_sample_every=settings.shadow_sample_every,
        default_report_every=settings.shadow_report_every,
        max_examples=settings.evaluation_max_examples,
    )
