"""The ``argus`` command."""

from __future__ import annotations

import logging
import sys

import click
import typer

from argus import __version__
from argus.cli.analyze import analyze
from argus.cli.audit import audit_app
from argus.cli.dataset import dataset_app
from argus.cli.detect import detect
from argus.cli.edge import edge
from argus.cli.eval import eval_app
from argus.cli.evidence import evidence_app
from argus.cli.models import models_app
from argus.cli.serve import serve
from argus.cli.users import users_app
from argus.domain.errors import ArgusError

try:  # typer 0.2x vendors click: its usage errors are its own classes, not click's
    from typer._click.exceptions import ClickException as TyperClickException
except ImportError:  # pragma: no cover - older typer raises click's own
    from click import ClickException as TyperClickException  # type: ignore[assignment]

__all__ = ["app", "main"]

app = typer.Typer(
    name="argus",
    help="Argus: self-hosted video analytics (offline detection on CPU).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(models_app, name="models")
app.add_typer(eval_app, name="eval")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(dataset_app, name="dataset")
app.add_typer(users_app, name="users")
app.command(name="detect")(detect)
app.command(name="analyze")(analyze)
app.command(name="serve")(serve)
app.command(name="edge")(edge)


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
        code = app(standalone_mode=False)
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
