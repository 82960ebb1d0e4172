"""The learning loop's services, as the API and the lifecycle see them (issue 21).

Operators' verdicts and uncertain detections become hard examples
(``examples``), people label them (``labelling``), labelled sets are exported
(``datasets``), model versions are registered, assigned per camera, shadowed
and evaluated (``registry``, ``trials``), false-positive patterns become rule
suggestions (``suggestions``), and past events are found by asking in words
(``search``). ``bootstrap.learning`` builds them and declares which run in the
background.
"""

from __future__ import annotations

from dataclasses import dataclass

from argus.services.dataset_export import DatasetExporter
from argus.services.event_search import EventSearch
from argus.services.hard_examples import HardExampleService
from argus.services.labelling import LabellingService
from argus.services.model_registry import ModelRegistry
from argus.services.model_trials import ModelTrials
from argus.services.rule_suggestions import RuleSuggestions

__all__ = ["Learning"]


@dataclass(frozen=True, slots=True)
class Learning:
    """The learning loop's services.

    Attributes:
        examples: The hard-example queue (collection, listing, frames).
        labelling: Claims, labels and reviews of examples.
        datasets: COCO and YOLO exports of the labelled examples.
        registry: Model versions and their assignment per camera.
        trials: Shadow runs and evaluations of model versions.
        suggestions: Rule suggestions from false-positive verdicts.
        search: Search in words over events, alerts and incidents.
    """

    examples: HardExampleService
    labelling: LabellingService
    datasets: DatasetExporter
    registry: ModelRegistry
    trials: ModelTrials
    suggestions: RuleSuggestions
    search: EventSearch
