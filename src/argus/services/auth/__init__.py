"""Sign-in, tokens, MFA, users and API keys, every step audited.

``AuthService`` assembles three services over one database, audit trail and
set of keys:

* ``SessionService`` (``sessions``): sign-in with a password (argon2id) and,
  with MFA, a TOTP or recovery code; short-lived access tokens; refresh
  tokens that rotate on every use (a reused one revokes its session);
  sign-out on every server; request authentication by token or API key.
* ``MfaService`` (``mfa``): TOTP enrolment and recovery codes; replacing or
  removing a second factor needs the password and a current code.
* ``AccountService`` (``accounts``): users, API keys and the security policy,
  written from typed commands with the acting ``Actor``.

Their cryptography comes through ``argus.ports.crypto`` (built by
``argus.adapters.crypto.auth_crypto``); every key is ``derive_key`` of the
installation secret with its own label.
"""

from __future__ import annotations

from argus.services.auth.accounts import AccountService, IssuedKey
from argus.services.auth.commands import NewApiKey, NewUser, UserChanges
from argus.services.auth.config import AuthConfig
from argus.services.auth.mfa import MfaEnrolment, MfaService
from argus.services.auth.passwords import check_password_strength, one_time_password
from argus.services.auth.revocation import RevocationHook
from argus.services.auth.service import AuthService
from argus.services.auth.sessions import MfaRequiredError, SessionService
from argus.services.auth.tokens import Restriction, TokenPair

__all__ = [
    "AccountService",
    "AuthConfig",
    "AuthService",
    "IssuedKey",
    "MfaEnrolment",
    "MfaRequiredError",
    "MfaService",
    "NewApiKey",
    "NewUser",
    "Restriction",
    "RevocationHook",
    "SessionService",
    "TokenPair",
    "UserChanges",
    "check_password_strength",
    "one_time_password",
]
