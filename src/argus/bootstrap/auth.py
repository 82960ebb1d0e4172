"""Sign-in and accounts: the one place the ``AuthService`` is constructed.

The server builds it with ``build_auth_service`` (its revocation hook wakes
the open sockets); ``argus users`` opens it over the configured database with
``open_auth_admin``. Both derive the keys from the installation secret, so
what one writes (password hashes, audit records) reads the same in the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus.adapters.crypto import auth_crypto
from argus.bootstrap.adapters import installation_secret, open_database
from argus.config import Settings
from argus.ports.repositories import Database
from argus.services.auth import AuthConfig, AuthService

__all__ = ["auth_config", "build_auth_service", "open_auth_admin"]


def auth_config(settings: Settings) -> AuthConfig:
    """Token lifetimes and sign-in limits of the settings."""
    return AuthConfig(
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        max_failures=settings.login_max_failures,
        lockout_s=settings.login_lockout_s,
        login_rate_per_s=settings.login_ip_per_s,
        login_burst=settings.login_ip_burst,
    )


def build_auth_service(
    settings: Settings,
    database: Database,
    secret: bytes,
    *,
    on_revoked: Callable[[str, str | None], Awaitable[None]] | None = None,
) -> AuthService:
    """The auth service over ``database`` and its audit log.

    Args:
        settings: Token lifetimes and sign-in limits.
        database: Users, keys, sessions and the audit log.
        secret: The installation secret the service derives its keys from.
        on_revoked: Told of ended sessions, with the principal's and the session's id
            (the server's ``SessionWatch.announce``).
    """
    return AuthService(
        database, database.audit, auth_crypto(secret), auth_config(settings), on_revoked=on_revoked
    )


async def open_auth_admin(settings: Settings) -> tuple[AuthService, Callable[[], Awaitable[None]]]:
    """The auth service over the configured database and its audit log (account recovery).

    Returns:
        The service and a function that closes the database.

    Raises:
        ConfigError: Bad database URL or secret key.
        StorageError: The database is unreachable or a migration failed.
    """
    secret = installation_secret(settings)
    database = await open_database(settings, secret)
    return build_auth_service(settings, database, secret), database.close
