"""``AccountService``: administration of users, API keys and the security policy.

Each write takes a typed command and the ``Actor`` performing it; the service
checks, then writes and appends the audit record in one unit of work (the
database's, so the record commits with the write, or neither does). Password
hashing runs before the unit and the announcement of ended sessions after it
commits. Changing a user ends its sessions; a user deleted or an API key
revoked stops working at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.cameras import new_id
from argus.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from argus.domain.identity import ApiKey, Principal, SecurityPolicy, User
from argus.ports.paging import Page
from argus.ports.repositories import Database
from argus.services.auth.commands import NewApiKey, NewUser, UserChanges
from argus.services.auth.passwords import Passwords, check_password_strength, one_time_password
from argus.services.auth.policy import PolicyStore
from argus.services.auth.revocation import MFA_OFF, Revocations
from argus.services.auth.tokens import secret_digest
from argus.services.auth.trail import AuthTrail
from argus.services.writes import set_fields

__all__ = ["AccountService", "IssuedKey"]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key; ``key`` is shown once and never stored."""

    key: str
    api_key: ApiKey


def _user(user_id: str) -> str:
    return f"user:{user_id}"


class AccountService:
    """Users, API keys and the security policy, every write audited.

    Args:
        database: Users, refresh tokens, API keys and settings; its units of
            work hold each write with its audit record.
        trail: Stamps the audit records (appended to the unit's audit trail).
        passwords: Password hashing.
        policy: The security policy's store.
        revocations: Ends sessions.
        clock: Current UTC time.
    """

    def __init__(
        self,
        database: Database,
        trail: AuthTrail,
        *,
        passwords: Passwords,
        policy: PolicyStore,
        revocations: Revocations,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = database
        self._trail = trail
        self._passwords = passwords
        self._policy = policy
        self._revocations = revocations
        self._clock = clock

    # --- users -----------------------------------------------------------------------------

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        """Create the first admin when there are no users.

        Args:
            username: The admin's name.
            password: Its password; ``None`` makes a one-time password that
                must be changed at first sign-in.

        Returns:
            The one-time password when one was made (print it once), else ``None``.
        """
        if await self._db.users.count() > 0:
            return None
        one_time = password is None
        chosen = one_time_password() if password is None else password
        check_password_strength(chosen, username)
        user = self._new_user(NewUser(username, chosen, "admin", must_change_password=one_time))
        added = False
        try:
            async with self._db.unit_of_work() as unit:
                await unit.users.add(user)
                added = True
                await self._trail.within(unit.audit).record(
                    "user.create", SYSTEM_ACTOR.audit_name, target=_user(user.id), role="admin"
                )
        except ConflictError:
            if added:
                raise
            return None  # another server made it first
        return chosen if one_time else None

    async def create_user(self, command: NewUser, actor: Actor) -> User:
        """Create a user.

        Raises:
            ValidationError: Weak password or bad fields.
            ConflictError: The username is taken.
        """
        check_password_strength(command.password, command.username)
        user = self._new_user(command)
        async with self._db.unit_of_work() as unit:
            await unit.users.add(user)
            await self._trail.within(unit.audit).record(
                "user.create",
                actor.audit_name,
                target=_user(user.id),
                ip=actor.ip,
                username=command.username,
                role=command.role,
                cameras=None if command.cameras is None else sorted(command.cameras),
            )
        return user

    def _new_user(self, command: NewUser) -> User:
        now = self._clock()
        return User(
            id=new_id(),
            username=command.username,
            role=command.role,
            password_hash=self._passwords.hash(command.password),
            created_at=now,
            updated_at=now,
            cameras=command.cameras,
            must_change_password=command.must_change_password,
        )

    async def list_users(self, *, limit: int, offset: int) -> Page[User]:
        """Users by name."""
        return await self._db.users.list(limit=limit, offset=offset)

    async def get_user(self, user_id: str) -> User:
        """One user."""
        return await self._db.users.get(user_id)

    async def me(self, principal: Principal) -> User:
        """The signed-in user."""
        return await self._db.users.get(principal.id)

    async def user_named(self, username: str) -> User:
        """The user named ``username`` (exact match).

        Raises:
            NotFoundError: There is none.
        """
        user = await self._db.users.find(username)
        if user is None:
            raise NotFoundError(f"no user named {username}")
        return user

    async def update_user(self, user_id: str, changes: UserChanges, actor: Actor) -> User:
        """Change a user's role, cameras, disabled flag, or set a new password.

        Any change ends the user's sessions (its tokens are invalidated).

        Raises:
            PermissionDeniedError: An admin demoting or disabling itself.
        """
        user = await self._db.users.get(user_id)
        fields = set_fields(changes)
        password = fields.pop("password", None)
        shown = {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in fields.items()}
        if password is not None:
            check_password_strength(password, user.username)
            fields["password_hash"] = self._passwords.hash(password)
        if _is(actor, user) and (fields.get("role", "admin") != "admin" or changes.disabled):
            raise PermissionDeniedError("an admin cannot demote or disable itself")
        async with self._db.unit_of_work() as unit:
            updated, _ = await self._revocations.within(unit).save_ending_sessions(user, **fields)
            await self._trail.within(unit.audit).record(
                "user.update",
                actor.audit_name,
                target=_user(user.id),
                ip=actor.ip,
                password_reset="password_hash" in fields,
                details=shown,
            )
        await self._revocations.announce(user.id, None)
        return updated

    async def unlock_user(self, user_id: str, actor: Actor) -> User:
        """Clear a lockout."""
        async with self._db.unit_of_work() as unit:
            user = await unit.users.get(user_id)
            updated = user.evolve(self._clock(), failed_logins=0, locked_until=None)
            await unit.users.update(updated)
            await self._trail.within(unit.audit).record(
                "user.unlock", actor.audit_name, target=_user(user.id), ip=actor.ip
            )
        return updated

    async def reset_password(
        self, user_id: str, actor: Actor, *, reset_mfa: bool = False
    ) -> tuple[User, str]:
        """Give a user a one-time password (account recovery, e.g. ``argus users``).

        The user must change it at the next sign-in; its lockout is cleared and
        every session ends, as after a password change. With ``reset_mfa`` its
        TOTP secret and recovery codes are removed too (a lost phone), audited
        as ``mfa.reset`` (as the admin API does).

        Returns:
            The updated user and the one-time password (show it once).
        """
        user = await self._db.users.get(user_id)
        password = one_time_password()
        password_hash = self._passwords.hash(password)
        name, target = actor.audit_name, _user(user.id)
        async with self._db.unit_of_work() as unit:
            updated, revoked = await self._revocations.within(unit).save_ending_sessions(
                user,
                password_hash=password_hash,
                must_change_password=True,
                failed_logins=0,
                locked_until=None,
                **(MFA_OFF if reset_mfa else {}),
            )
            trail = self._trail.within(unit.audit)
            await trail.record(
                "user.password_reset",
                name,
                target=target,
                ip=actor.ip,
                username=user.username,
                revoked=revoked,
            )
            if reset_mfa:
                await trail.record(
                    "mfa.reset",
                    name,
                    target=target,
                    ip=actor.ip,
                    username=user.username,
                    had_mfa=user.mfa_enabled,
                )
        await self._revocations.announce(user.id, None)
        return updated, password

    async def reset_mfa(self, user_id: str, actor: Actor) -> User:
        """Remove a user's MFA (lost phone and codes); it enrols again."""
        async with self._db.unit_of_work() as unit:
            user = await unit.users.get(user_id)
            await self._revocations.within(unit).clear_mfa(user)
            await self._trail.within(unit.audit).record(
                "mfa.reset", actor.audit_name, target=_user(user.id), ip=actor.ip
            )
        await self._revocations.announce(user.id, None)
        return await self._db.users.get(user_id)

    async def delete_user(self, user_id: str, actor: Actor) -> None:
        """Delete a user and end its sessions.

        Raises:
            PermissionDeniedError: An admin deleting itself.
        """
        if actor.principal is not None and user_id == actor.principal.id:
            raise PermissionDeniedError("an admin cannot delete itself")
        async with self._db.unit_of_work() as unit:
            user = await unit.users.get(user_id)
            await unit.users.delete(user_id)
            await self._revocations.within(unit).end_all(user_id)
            await self._trail.within(unit.audit).record(
                "user.delete",
                actor.audit_name,
                target=_user(user_id),
                ip=actor.ip,
                username=user.username,
            )
        await self._revocations.announce(user_id, None)

    # --- API keys --------------------------------------------------------------------------

    async def create_key(self, command: NewApiKey, actor: Actor) -> IssuedKey:
        """Make an API key; its secret is returned once."""
        key_id, secret = new_id(), secrets.token_urlsafe(32)
        api_key = ApiKey(
            id=key_id,
            name=command.name,
            key_hash=secret_digest(secret),
            permissions=command.permissions,
            created_at=self._clock(),
            created_by=actor.audit_name,
            cameras=command.cameras,
        )
        async with self._db.unit_of_work() as unit:
            await unit.api_keys.add(api_key)
            await self._trail.within(unit.audit).record(
                "apikey.create",
                actor.audit_name,
                target=f"apikey:{key_id}",
                ip=actor.ip,
                name=command.name,
                permissions=sorted(command.permissions),
                cameras=None if command.cameras is None else sorted(command.cameras),
            )
        return IssuedKey(key=f"ak_{key_id}.{secret}", api_key=api_key)

    async def list_keys(self, *, limit: int, offset: int) -> Page[ApiKey]:
        """API keys, newest first."""
        return await self._db.api_keys.list(limit=limit, offset=offset)

    async def revoke_key(self, key_id: str, actor: Actor) -> ApiKey:
        """Revoke an API key (idempotent)."""
        async with self._db.unit_of_work() as unit:
            key = await unit.api_keys.revoke(key_id, self._clock())
            await self._trail.within(unit.audit).record(
                "apikey.revoke", actor.audit_name, target=f"apikey:{key_id}", ip=actor.ip
            )
        await self._revocations.announce(key_id, None)
        return key

    # --- security policy -------------------------------------------------------------------

    async def policy(self) -> SecurityPolicy:
        """The security policy (defaults when none was set)."""
        return await self._policy.current()

    async def set_policy(self, policy: SecurityPolicy, actor: Actor) -> SecurityPolicy:
        """Replace the security policy."""
        async with self._db.unit_of_work() as unit:
            await self._policy.within(unit.settings).replace(policy)
            await self._trail.within(unit.audit).record(
                "policy.update", actor.audit_name, target="policy", ip=actor.ip, **policy.to_dict()
            )
        return policy


def _is(actor: Actor, user: User) -> bool:
    return actor.principal is not None and actor.principal.id == user.id
