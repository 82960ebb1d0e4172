"""Names that could forge output: control characters in usernames and in printed fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argus.domain.errors import ValidationError
from argus.domain.identity import User, printable

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    ["eve\nuser:admin", "eve\r", "eve\x1b[2J", "eve\x00", "eve\u2028", "eve\u202emoc", "eve\t"],
    ids=["newline", "carriage-return", "escape", "nul", "line-separator", "rtl-override", "tab"],
)
def test_a_username_with_a_control_character_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="username"):
        User(
            id="u1",
            username=name,
            role="viewer",
            password_hash="$argon2id$x",
            created_at=NOW,
            updated_at=NOW,
        )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("user:ann", "user:ann"),
        ("José Müller", "José Müller"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("para\u2029graph", "para\\u2029graph"),
        ("lone\ud800", "lone\\ud800"),
        ("typed\\n", "typed\\\\n"),
    ],
    ids=[
        "plain",
        "accents",
        "newline",
        "crlf",
        "escape",
        "rtl-override",
        "paragraph",
        "surrogate",
        "typed-backslash",
    ],
)
def test_printable_escapes_what_could_forge_a_line(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert "\n" not in printable(raw)
