"""``PolicyStore``: the installation's security policy, kept in the settings store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from argus.domain.identity import SecurityPolicy
from argus.ports.identity import SettingsStore

__all__ = ["POLICY_KEY", "PolicyStore"]

POLICY_KEY = "security.policy"
"""The settings key the policy is stored under."""


class PolicyStore:
    """Reads and replaces the security policy.

    Args:
        settings: The installation settings.
        clock: Current UTC time.
    """

    def __init__(self, settings: SettingsStore, clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._clock = clock

    def within(self, settings: SettingsStore) -> PolicyStore:
        """The same store over ``settings`` (a unit of work's: it commits with the unit)."""
        return PolicyStore(settings, self._clock)

    async def current(self) -> SecurityPolicy:
        """The security policy (defaults when none was set)."""
        stored = await self._settings.get(POLICY_KEY)
        return SecurityPolicy() if stored is None else SecurityPolicy.from_dict(stored)

    async def replace(self, policy: SecurityPolicy) -> None:
        """Store ``policy`` in place of the current one."""
        await self._settings.put(POLICY_KEY, policy.to_dict(), self._clock())
