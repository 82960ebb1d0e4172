"""The learning loop (issue 21), built from the settings and the adapters.

``build_learning`` builds each service of ``Learning``; ``learning_steps``
lists the ones that run in the background, in the order they start (they
stop in reverse), for ``ControlPlane.steps``.
"""

from __future__ import annotations

from argus.bootstrap.adapters import Adapters
from argus.bootstrap.lifecycle import Step
from argus.config import Settings
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
    del settings, evidence, alerts, risk_policies  # each part's builder takes what it needs
    del adapters
    return Learning(
        examples=HardExampleService(),
        labelling=LabellingService(),
        datasets=DatasetExporter(),
        registry=ModelRegistry(),
        trials=ModelTrials(),
        suggestions=RuleSuggestions(),
        search=EventSearch(),
    )


def learning_steps(learning: Learning) -> tuple[Step, ...]:
    """The learning loop's background parts, in start order."""
    del learning
    return ()
