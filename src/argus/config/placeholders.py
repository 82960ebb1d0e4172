"""Placeholder secrets: values refused as secrets outside dev mode."""

from __future__ import annotations

__all__ = ["PLACEHOLDERS", "is_placeholder"]


PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "secret",
        "password",
        "passw0rd",
        "admin",
        "argus",
        "default",
        "example",
        "test",
        "dev",
        "placeholder",
        "replaceme",
        "replace-me",
        "your-secret-key",
        "your_secret_key",
        "secret-key",
        "secretkey",
        "todo",
        "xxx",
        "none",
        "null",
    }
)
"""Values (lower-cased, stripped) that secrets are refused at outside dev mode."""


def is_placeholder(value: str) -> bool:
    """True for a placeholder secret: a known word, ``<...>``, or one repeated character."""
    text = value.strip().lower()
    return (
        not text
        or text in PLACEHOLDERS
        or (text.startswith("<") and text.endswith(">"))
        or (text.startswith("${") and text.endswith("}"))
        or len(set(text)) == 1
    )
