"""Public home of the exception tree; it lives in ``argus.domain.errors`` (no I/O, no deps)."""

from argus.domain.errors import (
    ArgusError,
    ConfigError,
    DetectorError,
    ModelBuildError,
    ModelError,
    ModelIntegrityError,
    ModelNotFoundError,
    SourceClosedError,
    SourceDecodeError,
    SourceError,
    SourceOpenError,
    UnsafePickleError,
    ValidationError,
)

__all__ = [
    "ArgusError",
    "ConfigError",
    "DetectorError",
    "ModelBuildError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "SourceClosedError",
    "SourceDecodeError",
    "SourceError",
    "SourceOpenError",
    "UnsafePickleError",
    "ValidationError",
]
