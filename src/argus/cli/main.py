"""The ``argus`` command."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import click
import typer

from argus import __version__
from argus.domain.errors import ArgusError

try:  # typer 0.2x vendors click: its usage errors are its own classes, not click's
    from typer._click.exceptions import ClickException as TyperClickException
except ImportError:  # pragma: no cover - older typer raises click's own
    from click import ClickException as TyperClickException  # type: ignore[assignment]

__all__ = ["COMMANDS", "app", "main", "register"]

app = typer.Typer(
    name="argus",
    help="Argus: self-hosted video analytics (offline detection on CPU).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMANDS: dict[str, tuple[str, str, bool]] = {
    "models": ("argus.cli.models", "models_app", True),
    "eval": ("argus.cli.eval", "eval_app", True),
    "audit": ("argus.cli.audit", "audit_app", True),
    "evidence": ("argus.cli.evidence", "evidence_app", True),
    "dataset": ("argus.cli.dataset", "dataset_app", True),
    "users": ("argus.cli.users", "users_app", True),
    "detect": ("argus.cli.detect", "detect", False),
    "analyze": ("argus.cli.analyze", "analyze", False),
    "serve": ("argus.cli.serve", "serve", False),
    "edge": ("argus.cli.edge", "edge", False),
}
"""Each command: its module, the Typer group or function in it, whether it is a group."""

_registered: set[str] = set()


def register(argv: Sequence[str] = ()) -> typer.Typer:
    """Add the commands ``argv`` names to ``app`` (every command when it names none).

    Each command's module is imported only when the command runs: ``argus
    audit verify`` need not import the server, ONNX and the model catalogue
    (about 3 s of a 2-core box's time per call). Help and unknown commands
    register them all, so they are listed and misspellings are reported.
    """
    first = next((word for word in argv if not word.startswith("-")), None)
    names = [first] if first in COMMANDS else list(COMMANDS)
    for name in names:
        if name in _registered:
            continue
        module, attribute, group = COMMANDS[name]
        command = getattr(importlib.import_module(module), attribute)
        if group:
            app.add_typer(command, name=name)
        else:
            app.command(name=name)(command)
        _registered.add(name)
    return app


def _version(value: bool) -> None:
    if value:
        typer.echo(f"argus {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at debug level."),
    version: bool = typer.Option(  # noqa: ARG001 - handled by its eager callback
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    """Run the CLI; Argus errors become one clear line on stderr and exit status 2."""
    try:
        # Without standalone mode click returns Exit's code instead of raising it.
        code = register(sys.argv[1:])(standalone_mode=False)
    except ArgusError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except (click.ClickException, TyperClickException) as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
