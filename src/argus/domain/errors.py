"""The one exception tree of Argus.

Every error Argus raises on purpose derives from ``ArgusError``. Third-party
errors are translated at the boundary with ``raise ... from exc`` so callers
only ever need to catch these::

    ArgusError
    ├── ConfigError                 invalid settings or arguments
    ├── ValidationError             a value fails a domain invariant (shapes, ranges)
    ├── ModelError
    │   ├── ModelNotFoundError      unknown pack name or pack not built
    │   ├── ModelBuildError         conversion of source weights failed
    │   ├── ModelIntegrityError     checksum mismatch in a built pack
    │   └── UnsafePickleError       a checkpoint asked for a global outside the allow-list
    ├── DetectorError               inference failed or the model output is not understood
    ├── SourceError
    │   ├── SourceOpenError         the source could not be opened (missing, refused)
    │   ├── SourceDecodeError       corrupt or truncated input
    │   └── SourceClosedError       a read after the source was closed
    ├── BusError                    the event bus (broker) is unreachable or refused an operation
    ├── StorageError                the database is unreachable or a statement failed
    ├── NotFoundError               no stored entity has the given id
    ├── ConflictError               the id (or a unique name) is already taken
    ├── AuthenticationError         no valid credentials (bad password, token, key, code)
    ├── PermissionDeniedError       authenticated, but the role or scope does not allow it
    ├── RateLimitedError            too many requests or attempts; carries ``retry_after``
    └── IntegrityError              stored data failed its integrity check (tampering)
"""

from __future__ import annotations

__all__ = [
    "ArgusError",
    "AuthenticationError",
    "BusError",
    "ConfigError",
    "ConflictError",
    "DetectorError",
    "IntegrityError",
    "ModelBuildError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "SourceClosedError",
    "SourceDecodeError",
    "SourceError",
    "SourceOpenError",
    "StorageError",
    "UnsafePickleError",
    "ValidationError",
]


class ArgusError(Exception):
    """Root of every error Argus raises on purpose."""


class ConfigError(ArgusError):
    """Settings or arguments are invalid."""


class ValidationError(ArgusError, ValueError):
    """A value breaks a domain invariant (array shapes, ranges)."""


class ModelError(ArgusError):
    """Something is wrong with a model pack."""


class ModelNotFoundError(ModelError):
    """The pack is unknown or has not been built yet."""


class ModelBuildError(ModelError):
    """Converting source weights into a pack failed."""


class ModelIntegrityError(ModelError):
    """A file of a built pack does not match its recorded checksum."""


class UnsafePickleError(ModelBuildError):
    """A checkpoint pickle referenced a global that is not on the allow-list."""


class DetectorError(ArgusError):
    """Inference failed or the model output layout is not understood."""


class SourceError(ArgusError):
    """A video source failed."""


class SourceOpenError(SourceError):
    """The source could not be opened."""


class SourceDecodeError(SourceError):
    """The input is corrupt or truncated."""


class SourceClosedError(SourceError):
    """The source was used after it was closed."""


class BusError(ArgusError):
    """The event bus is unreachable, closed, or the broker refused an operation."""


class StorageError(ArgusError):
    """The database is unreachable or a statement failed."""


class NotFoundError(ArgusError, LookupError):
    """No stored entity has the given id."""


class ConflictError(ArgusError):
    """The id, or a name that must be unique, is already taken."""


class AuthenticationError(ArgusError):
    """No valid credentials: a wrong password, code, token or API key, or none at all."""


class PermissionDeniedError(ArgusError):
    """The caller is known, but its role, scope or camera set does not allow the action."""


class RateLimitedError(ArgusError):
    """Too many requests or attempts; try again after ``retry_after`` seconds.

    Args:
        message: What was limited.
        retry_after: Seconds until a retry can succeed (at least 1).
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1.0, float(retry_after))


class IntegrityError(ArgusError):
    """Stored data failed its integrity check: it was altered, truncated or swapped."""
