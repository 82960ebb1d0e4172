"""Schemas shared by every resource: strict base models, text fields, error bodies."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

__all__ = [
    "AUTH_RESPONSES",
    "ERROR_RESPONSES",
    "ErrorBody",
    "Moment",
    "Name",
    "PartialUpdate",
    "StrictModel",
    "Text",
    "no_nul",
    "non_nullable",
    "refuse_nulls",
]


def no_nul(value: str) -> str:
    """Reject NUL characters (PostgreSQL cannot store them) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode (no lone surrogates)") from exc
    return value


Text = Annotated[str, AfterValidator(no_nul)]
"""A string without NUL characters."""

Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(no_nul)]
"""A short non-empty name (lines, zones, labels, classes)."""


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_8601(value: object) -> object:
    # Pydantic also takes a number of seconds; the document promises a date-time string.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time with a UTC offset")
    return value


def _plausible(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not 1970 <= utc.year <= 9000:
        raise ValueError("must lie between the years 1970 and 9000")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_plausible)]
"""A query time: an ISO 8601 date-time with a UTC offset, between 1970 and 9000."""


class StrictModel(BaseModel):
    """Base of request schemas: unknown fields and loose types (0 for false) are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)


def non_nullable(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that documents ``fields`` of a partial update as non-null.

    Update schemas type such fields ``X | None`` so that they may be omitted;
    ``refuse_nulls`` rejects an explicit null, and the document must say so.
    """

    def edit(schema: dict[str, Any]) -> None:
        for name in fields:
            prop = schema.get("properties", {}).get(name)
            if prop is None or "anyOf" not in prop:
                continue
            kept = [s for s in prop.pop("anyOf") if s.get("type") != "null"]
            prop.pop("default", None)
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept

    return edit


def refuse_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    """Raise ``ValueError`` when any of ``fields`` was sent as an explicit null."""
    nulls = [f for f in fields if f in model.model_fields_set and getattr(model, f) is None]
    if nulls:
        raise ValueError(f"{', '.join(nulls)} cannot be null (omit a field to keep it)")


class PartialUpdate(StrictModel):
    """Base of PATCH bodies: absent fields keep their value; ``not_null`` fields refuse null.

    Subclasses set ``not_null`` and document it with
    ``model_config = ConfigDict(json_schema_extra=non_nullable(...))``.
    """

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        refuse_nulls(self, self.not_null)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields that were sent, as plain values."""
        return self.model_dump(exclude_unset=True)


class ErrorBody(BaseModel):
    """An error the API reports on purpose (not a request validation error)."""

    detail: str = Field(description="What went wrong, in one sentence.")
    code: str | None = Field(
        default=None, description="A machine-readable reason where one helps (mfa_required)."
    )


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON."},
    404: {"model": ErrorBody, "description": "Unknown id."},
    409: {"model": ErrorBody, "description": "The id or a unique name is taken."},
    503: {"model": ErrorBody, "description": "The database or the event bus is unavailable."},
}
"""Error responses every resource route may give (documented in OpenAPI)."""

AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Not signed in, or the token or key is not valid."},
    403: {"model": ErrorBody, "description": "The role, key or camera scope does not allow it."},
    413: {"model": ErrorBody, "description": "The body is larger than this endpoint takes."},
    429: {"model": ErrorBody, "description": "Too many requests; see Retry-After."},
}
"""Responses of every authenticated route."""
