"""``argus dataset export``: the labelled hard examples as a COCO and YOLO dataset ZIP.

It opens the configured database and evidence vault (``ARGUS_*`` settings, as
``argus serve`` would), takes the accepted examples (``--include-unreviewed``:
also labelled ones not yet reviewed), splits them into train and validation
by camera and time with no near-duplicate frames across the split, and writes
one ZIP (COCO ``annotations/``, YOLO ``labels/`` and ``data.yaml``, the
images, ``manifest.json``). ``--preview`` prints the counts without writing.
The export is audited as ``dataset.export`` by ``cli:<login name>``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import typer

from argus.bootstrap.datasets import open_dataset_admin
from argus.cli._settings import load_settings
from argus.cli.users import cli_actor
from argus.domain.actor import Actor
from argus.domain.dataset_split import SplitRule
from argus.domain.errors import ConfigError
from argus.services.dataset_export import DatasetArchive, ExportRequest, ExportSummary

__all__ = ["dataset_app"]

dataset_app = typer.Typer(
    help="Export labelled hard examples as COCO and YOLO datasets.", no_args_is_help=True
)


def _aware(value: datetime | None) -> datetime | None:
    """Command-line times without a zone are taken as local time."""
    return None if value is None or value.tzinfo is not None else value.astimezone()


def _licences(pairs: list[str]) -> dict[str, str]:
    licences: dict[str, str] = {}
    for pair in pairs:
        camera, sep, text = pair.partition("=")
        if not sep or not camera or not text:
            raise ConfigError(f"--camera-licence takes CAMERA_ID=TEXT, not {pair!r}")
        licences[camera] = text
    return licences


def _print(summary: ExportSummary) -> None:
    train, val = summary.images["train"], summary.images["val"]
    typer.echo(f"images: {train} train, {val} val ({summary.groups} groups kept whole)")
    typer.echo(f"boxes:  {summary.boxes['train']} train, {summary.boxes['val']} val")
    for name, counts in summary.boxes_per_class.items():
        typer.echo(f"  {name}: {counts['train']} train, {counts['val']} val")
    typer.echo(f"near-duplicate pairs: {summary.near_duplicates}")
    typer.echo(f"cameras: {json.dumps(summary.cameras)}")
    typer.echo(f"models:  {json.dumps(summary.model_refs)}")
    for example_id, reason in summary.skipped.items():
        typer.secho(f"left out {example_id}: {reason}", fg=typer.colors.YELLOW)


@dataset_app.command("export")
def export(
    out: Path | None = typer.Argument(
        None, help="The ZIP to write (default: <name>-<UTC time>.zip here)."
    ),
    camera: list[str] = typer.Option([], "--camera", help="Only this camera id (repeatable)."),
    since: datetime | None = typer.Option(None, "--since", help="Frames captured at or after."),
    until: datetime | None = typer.Option(None, "--until", help="Frames captured before."),
    include_unreviewed: bool = typer.Option(
        False, "--include-unreviewed", help="Also take labelled examples not yet reviewed."
    ),
    classes: list[str] = typer.Option(
        [], "--class", help="Classes in export order (repeatable; default: all, sorted)."
    ),
    val_fraction: float = typer.Option(0.2, "--val-fraction", min=0.0, max=0.9),
    split_by: str = typer.Option("time", "--split-by", help="time (blocks per camera) or camera."),
    block_minutes: float = typer.Option(10.0, "--block-minutes", min=1 / 60),
    max_distance: int = typer.Option(
        12,
        "--max-distance",
        min=0,
        max=128,
        help="Near duplicates differ in at most this many of the 256 hash bits.",
    ),
    seed: int = typer.Option(0, "--seed", min=0),
    licence: str | None = typer.Option(None, "--licence", help="Licence of the source video."),
    camera_licence: list[str] = typer.Option(
        [], "--camera-licence", metavar="CAMERA_ID=TEXT", help="A camera's own licence."
    ),
    name: str = typer.Option("argus-dataset", "--name", help="The dataset's name."),
    preview: bool = typer.Option(False, "--preview", help="Print the counts, write nothing."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
    ),
) -> None:
    """Write the dataset ZIP (or, with --preview, print what it would hold)."""
    if split_by not in ("time", "camera"):
        raise ConfigError(f"--split-by is 'time' or 'camera', not {split_by!r}")
    by: Literal["time", "camera"] = "camera" if split_by == "camera" else "time"
    request = ExportRequest(
        camera_ids=tuple(camera) or None,
        since=_aware(since),
        until=_aware(until),
        include_unreviewed=include_unreviewed,
        classes=tuple(classes) or None,
        rule=SplitRule(
            val_fraction=val_fraction,
            by=by,
            block=timedelta(minutes=block_minutes),
            max_distance=max_distance,
            seed=seed,
        ),
        licence=licence,
        camera_licences=_licences(camera_licence),
        name=name,
    )
    settings = load_settings(data_dir)
    actor = Actor(principal=None, name=cli_actor())

    async def run() -> ExportSummary | DatasetArchive:
        exporter, close = await open_dataset_admin(settings)
        try:
            if preview:
                return await exporter.preview(actor, request)
            return await exporter.export(actor, request)
        finally:
            await close()

    result = asyncio.run(run())
    if isinstance(result, ExportSummary):
        _print(result)
        return
    target = out if out is not None else Path(result.filename)
    try:
        target.write_bytes(result.data)
    except OSError as exc:
        raise ConfigError(f"{target}: {exc.strerror or exc}") from exc
    _print(result.summary)
    typer.echo(f"wrote {target} ({len(result.data)} bytes, sha256 {result.sha256})")
