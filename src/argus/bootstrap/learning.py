"""The learning loop (issue 21), built from the settings and the adapters.

``build_learning`` builds each service of ``Learning``; ``learning_steps``
lists the ones that run in the background, in the order they start (they
stop in reverse), for ``ControlPlane.steps``.
"""

from __future__ import annotations

from datetime import timedelta

from argus.bootstrap.adapters import Adapters
from argus.bootstrap.lifecycle import Step
from argus.config import Settings
from argus.domain.cameras import utc_now
from argus.domain.rule_suggestions import SuggestionLimits
from argus.services.alerts import AlertService
from argus.services.dataset_export import DatasetExporter
from argus.services.event_search import EventSearch
from argus.services.evidence import EvidenceService
from argus.services.hard_examples import HardExampleService
from argus.services.labelling import LabellingService
from argus.services.learning import Learning
from argus.services.model_registry import ModelRegistry
from argus.services.model_trials import ModelTrials
from argus.services.risk_policy import RiskPolicyService
from argus.services.rule_suggestions import RuleSuggestions

__all__ = ["build_learning", "learning_steps"]


def build_learning(
    settings: Settings,
    adapters: Adapters,
    *,
    evidence: EvidenceService,
    alerts: AlertService,
    risk_policies: RiskPolicyService,
) -> Learning:
    """The learning loop's services over the control plane's adapters."""
    examples = _examples(settings, adapters, evidence)
    return Learning(
        examples=examples,
        labelling=_labelling(settings, adapters),
        datasets=_datasets(settings, adapters, examples),
        registry=_registry(settings, adapters),
        trials=_trials(settings, adapters, examples),
        suggestions=_suggestions(settings, adapters, alerts, risk_policies),
        search=_search(settings, adapters, risk_policies),
    )


def _examples(
    settings: Settings, adapters: Adapters, evidence: EvidenceService
) -> HardExampleService:
    """The hard-example queue, fed from the bus by its ``background`` intake (part A)."""
    from argus.bootstrap.examples import build_examples

    return build_examples(settings, adapters, evidence)


def _labelling(settings: Settings, adapters: Adapters) -> LabellingService:
    """Claims, labels and reviews of hard examples (part B)."""
    database = adapters.database
    lease = timedelta(seconds=settings.labelling_lease_s)
    return LabellingService(database.hard_examples, database.audit, utc_now, lease=lease)


def _suggestions(
    settings: Settings, adapters: Adapters, alerts: AlertService, policies: RiskPolicyService
) -> RuleSuggestions:
    """Rule suggestions from false-positive verdicts (part E)."""
    limits = SuggestionLimits(
        min_false_positives=settings.suggestions_min_false_positives,
        max_true_loss=settings.suggestions_max_true_loss,
        max_quiet_hours=settings.suggestions_max_quiet_hours,
    )
    return RuleSuggestions(
        adapters.database, alerts.rules, policies, days=settings.suggestions_days, limits=limits
    )


def _registry(settings: Settings, adapters: Adapters) -> ModelRegistry:
    """Model versions and their assignment per camera (part D1).

    Its camera service is a second view of the same store and pipelines: it
    changes a camera's model and restarts that camera's pipeline.
    """
    from argus.adapters.modelpacks.catalog import default_builders
    from argus.adapters.modelpacks.store import FileModelStore
    from argus.adapters.video._imaging import encode_jpeg
    from argus.bootstrap.sources import probe_opener, source_policy
    from argus.services.cameras import CameraService
    from argus.services.models import ModelService

    cameras = CameraService(
        adapters.database,
        adapters.pipelines,
        open_probe=probe_opener(settings),
        encode_jpeg=encode_jpeg,
        check_source=source_policy(settings).check,
    )
    models = ModelService(FileModelStore(settings.models_dir), default_builders())
    return ModelRegistry(adapters.database, models, cameras, utc_now)


def _datasets(
    settings: Settings, adapters: Adapters, examples: HardExampleService
) -> DatasetExporter:
    """COCO and YOLO exports of the labelled examples, frames from the queue (part C)."""
    from argus.bootstrap.datasets import build_dataset_exporter, frames_of

    return build_dataset_exporter(settings, adapters.database, frames_of(examples))


def _search(settings: Settings, adapters: Adapters, policies: RiskPolicyService) -> EventSearch:
    """Search in words over events, alerts and incidents (part F2).

    The description store lives in the database (memory for a memory store);
    the vector index opens on first use, as the settings choose.
    """
    from argus.bootstrap.search import open_vector_index, text_encoder
    from argus.bootstrap.search_items import search_item_store
    from argus.services.alerts import ALERTS_SUBJECT
    from argus.services.event_search_index import LazyVectorIndex, SearchIndexer

    database = adapters.database
    items = search_item_store(database)  # the store privacy and retention forget from
    encoder = text_encoder(settings)
    index = LazyVectorIndex(
        lambda: open_vector_index(settings, dim=encoder.dim, namespace=encoder.model_ref)
    )
    indexer = SearchIndexer(
        database,
        items,
        index,
        encoder,
        policies.site,
        bus=adapters.bus,
        events_subject=adapters.events_subject,
        alerts_subject=ALERTS_SUBJECT,
    )
    return EventSearch(
        indexer,
        policies.site,
        utc_now,
        candidates=settings.search_candidates,
        indexing=settings.search_enabled,
    )


def _trials(settings: Settings, adapters: Adapters, examples: HardExampleService) -> ModelTrials:
    """Shadow runs and evaluations of model versions (part D2)."""
    from argus.bootstrap.trials import build_trials

    return build_trials(settings, adapters, examples)


def learning_steps(learning: Learning) -> tuple[Step, ...]:
    """The learning loop's background parts, in start order."""
    steps = [Step("search index", learning.search.start, learning.search.stop)]
    steps.append(Step("model trials", learning.trials.start, learning.trials.stop))
    intake = learning.examples.background
    if intake is not None:
        steps.append(Step("hard examples", intake.start, intake.stop))
    return tuple(steps)
