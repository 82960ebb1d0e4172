"""``WorkBudget``: concurrent slots per principal and in all, refused at once when spent."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from pydantic import ValidationError

from argus.config import Settings
from argus.domain.errors import ConfigError, RateLimitedError
from argus.services.workbudget import WorkBudget


def test_a_principal_gets_its_slots_and_no_more() -> None:
    budget = WorkBudget(2, 10, what="analytics queries", retry_after=3.0)
    with ExitStack() as held:
        held.enter_context(budget.slot("user:viewer"))
        held.enter_context(budget.slot("user:viewer"))
        with pytest.raises(RateLimitedError, match="at most 2 per user or key") as refused:
            held.enter_context(budget.slot("user:viewer"))
        assert refused.value.retry_after == 3.0
        with budget.slot("user:admin"):  # another principal is not charged for the viewer
            assert budget.running("user:admin") == 1
        assert budget.running("user:viewer") == 2
        assert budget.running() == 2
    assert budget.running() == 0
    with budget.slot("user:viewer"):
        pass


def test_the_total_bounds_many_principals() -> None:
    budget = WorkBudget(1, 3)
    with ExitStack() as held:
        for number in range(3):
            held.enter_context(budget.slot(f"apikey:{number}"))
        with pytest.raises(RateLimitedError, match="busy"):
            held.enter_context(budget.slot("apikey:other"))
    assert budget.running() == 0


def test_a_failing_operation_gives_its_slot_back() -> None:
    budget = WorkBudget(1, 1)
    with pytest.raises(ZeroDivisionError), budget.slot("user:a"):
        _ = 1 / 0
    assert budget.running("user:a") == 0
    with budget.slot("user:a"):
        pass


@pytest.mark.parametrize(
    ("per_principal", "total", "retry_after"),
    [(0, 4, 1.0), (5, 4, 1.0), (1, 1, 0.0)],
    ids=["no-slot", "total-below-per-principal", "no-wait"],
)
def test_a_budget_that_cannot_work_is_refused(
    per_principal: int, total: int, retry_after: float
) -> None:
    with pytest.raises(ConfigError):
        WorkBudget(per_principal, total, retry_after=retry_after)


def test_the_settings_refuse_a_total_below_the_per_principal_limit(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="analytics_queries_total"):
        Settings(data_dir=tmp_path, analytics_queries_per_principal=4, analytics_queries_total=2)
