"""The ``argus`` command imports only the module of the command that runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from argus.cli.main import COMMANDS

_PROBE = """
import sys
from argus.cli.main import register
app = register(sys.argv[1:])
names = sorted(
    [group.name for group in app.registered_groups]
    + [command.name for command in app.registered_commands]
)
print(",".join(names))
print(",".join(sorted(m for m in sys.modules if m.startswith("argus.cli."))))
"""


def _probe(*argv: str) -> tuple[list[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    registered, imported = done.stdout.strip().splitlines()
    return registered.split(","), imported.split(",")


def test_a_command_imports_only_its_own_module() -> None:
    registered, imported = _probe("-v", "audit", "verify", "--help")
    assert registered == ["audit"]
    assert "argus.cli.serve" not in imported
    assert "argus.cli.audit" in imported


@pytest.mark.parametrize("argv", [(), ("--help",), ("no-such-command",)])
def test_help_and_unknown_commands_list_every_command(argv: tuple[str, ...]) -> None:
    registered, _ = _probe(*argv)
    assert registered == sorted(COMMANDS)
