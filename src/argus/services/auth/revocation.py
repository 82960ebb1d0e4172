"""``Revocations``: ending sessions, stored first and then announced.

A session ends in the database (its refresh-token family revoked, or the
user's token version raised), which every server reads on every request; the
``RevocationHook`` is then told, so that open sockets and streams re-check at
once instead of at their next periodic check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from argus.domain.identity import User
from argus.ports.identity import RefreshTokenRepository, UserRepository
from argus.ports.unit_of_work import UnitOfWork

__all__ = ["MFA_OFF", "RevocationHook", "Revocations"]

log = logging.getLogger(__name__)

RevocationHook = Callable[[str, str | None], Awaitable[None]]
"""Told ``(principal id, session id)`` when a session ends, or ``(principal id, None)``
when every token of a user or API key stops working."""

MFA_OFF: Mapping[str, Any] = {"mfa_secret": None, "mfa_pending": None, "recovery_codes": ()}
"""The user fields that turn MFA off."""


class Revocations:
    """Ends sessions of users and API keys.

    Args:
        users: Users (their token version).
        refresh_tokens: Refresh-token families (the sessions).
        clock: Current UTC time.
        on_revoked: Told of ended sessions; its failures are logged, never
            raised: the revocation is already stored.
    """

    def __init__(
        self,
        users: UserRepository,
        refresh_tokens: RefreshTokenRepository,
        clock: Callable[[], datetime],
        on_revoked: RevocationHook | None = None,
    ) -> None:
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._clock = clock
        self._on_revoked = on_revoked

    def within(self, unit: UnitOfWork) -> Revocations:
        """Revocations stored through ``unit``'s repositories, announcing nothing.

        What they store commits with the unit; the caller calls ``announce``
        once the unit has committed (a hook never runs inside a unit).
        """
        return Revocations(unit.users, unit.refresh_tokens, self._clock)

    async def announce(self, principal_id: str, session: str | None) -> None:
        """Tell the hook that a session (``None``: every session) of a principal ended."""
        if self._on_revoked is None:
            return
        try:
            await self._on_revoked(principal_id, session)
        except Exception:  # the revocation is stored; sockets still re-check periodically
            log.exception("could not announce the end of a session of %s", principal_id)

    async def end_session(self, principal_id: str, session: str, at: datetime) -> int:
        """Revoke one session's refresh tokens and announce it; how many were revoked."""
        revoked = await self._refresh_tokens.revoke_family(session, at)
        await self.announce(principal_id, session)
        return revoked

    async def end_all(self, user_id: str) -> int:
        """Revoke every refresh token of a user (deleted) and announce it."""
        revoked = await self._refresh_tokens.revoke_user(user_id, self._clock())
        await self.announce(user_id, None)
        return revoked

    async def save_ending_sessions(self, user: User, **fields: Any) -> tuple[User, int]:
        """Store ``user`` with ``fields`` changed and end its sessions.

        A new token version invalidates its access tokens, and its refresh
        tokens are revoked.

        Returns:
            The stored user and how many refresh tokens were revoked.
        """
        now = self._clock()
        updated = user.evolve(now, token_version=user.token_version + 1, **fields)
        await self._users.update(updated)
        revoked = await self._refresh_tokens.revoke_user(user.id, now)
        await self.announce(user.id, None)
        return updated, revoked

    async def clear_mfa(self, user: User, **fields: Any) -> None:
        """Store ``user`` without MFA (and with ``fields``); its access tokens stop working."""
        await self._users.update(
            user.evolve(
                self._clock(), token_version=user.token_version + 1, **{**MFA_OFF, **fields}
            )
        )
        await self.announce(user.id, None)
