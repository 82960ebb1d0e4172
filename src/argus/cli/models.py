"""``argus models list|build|verify|info|versions|import``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from argus.bootstrap.container import build_container
from argus.domain.models import ModelManifest

__all__ = ["models_app"]

models_app = typer.Typer(
    help="Build, check and describe offline model packs.", no_args_is_help=True
)


def _describe(manifest: ModelManifest) -> dict[str, object]:
    data = manifest.to_dict()
    data["ref"] = manifest.ref
    data["input_sizes"] = list(manifest.input_sizes)
    return data


@models_app.command("list")
def list_packs(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the packs Argus can build and the ones that are built."""
    container = build_container()
    rows = container.models.packs()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "licence": r.licence,
                        "description": r.description,
                        "built": r.manifest is not None,
                        "version": r.manifest.version if r.manifest else None,
                        "input_sizes": list(r.manifest.input_sizes) if r.manifest else [],
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    typer.echo(f"model packs in {container.store.root}")
    for r in rows:
        state = (
            f"built {r.manifest.version} sizes {','.join(map(str, r.manifest.input_sizes))}"
            if r.manifest
            else "not built"
        )
        typer.echo(f"  {r.name:<20} {r.licence:<26} {state}")
        typer.echo(f"  {'':<20} {r.description}")


@models_app.command("build")
def build(
    names: list[str] = typer.Argument(None, help="Packs to build (default: the default pack)."),
    size: list[int] = typer.Option(
        None, "--size", "-s", help="Input size(s) in pixels (default: the pack's sizes)."
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild even if built and sound."),
) -> None:
    """Build packs from weights in installed registry packages (offline, no torch)."""
    container = build_container()
    for name in names or [container.settings.default_model]:
        manifest = container.models.build(name, size or None, force=force)
        sizes = ",".join(map(str, manifest.input_sizes))
        typer.echo(f"{manifest.ref}: sizes {sizes} in {container.store.path(name)}")


@models_app.command("verify")
def verify(names: list[str] = typer.Argument(None, help="Packs (default: all built).")) -> None:
    """Recompute every file's sha256 and compare it with the manifest."""
    container = build_container()
    targets = names or [m.name for m in container.store.manifests()]
    if not targets:
        typer.echo("no model packs are built (run: argus models build)")
        raise typer.Exit(1)
    failed = False
    for name in targets:
        problems = container.models.verify(name)
        if problems:
            failed = True
            for p in problems:
                typer.secho(
                    f"{name}: {p.path} FAILED (expected {p.expected[:16]}, got {p.actual[:16]})",
                    fg=typer.colors.RED,
                )
        else:
            files = len(container.models.info(name).files)
            typer.echo(f"{name}: OK ({files} files)")
    if failed:
        raise typer.Exit(1)


@models_app.command("info")
def info(
    name: str = typer.Argument(..., help="Pack name."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Show a built pack's manifest."""
    manifest = build_container().models.info(name)
    data = _describe(manifest)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key in ("ref", "kind", "layout", "licence", "source_package", "source_version", "created"):
        typer.echo(f"{key:<15} {data[key]}")
    typer.echo(f"{'input_sizes':<15} {data['input_sizes']}")
    typer.echo(f"{'classes':<15} {len(manifest.class_names)}: {', '.join(manifest.class_names)}")
    for f in manifest.files:
        typer.echo(f"{'file':<15} {f.path} [{f.role}] sha256 {f.sha256}")


@models_app.command("versions")
def versions(
    name: str = typer.Argument(..., help="Pack name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a pack's versions on disk: the current one and those kept when replaced."""
    container = build_container()
    found = container.models.versions(name)
    if not found:
        typer.echo(f"model pack {name!r} has no versions in {container.store.root}")
        raise typer.Exit(1)
    current = container.store.get(name).version if container.store.has(name) else None
    if as_json:
        rows = [{**_describe(m), "current": m.version == current} for m in found]
        typer.echo(json.dumps(rows, indent=2))
        return
    for m in found:
        mark = "current" if m.version == current else "kept"
        sizes = ",".join(map(str, m.input_sizes)) or "-"
        typer.echo(f"  {m.ref:<40} {mark:<8} sizes {sizes:<12} {m.created}")


@models_app.command("import")
def import_onnx(
    name: str = typer.Argument(..., help="Name for the new pack."),
    onnx_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The .onnx file."),
    names_file: Path = typer.Option(
        None, "--names", exists=True, dir_okay=False, help="Class names, one per line."
    ),
    layout: str = typer.Option(
        None, "--layout", help="yolov5|yolov7|yolov8|yolov11 (default: from the output shape)."
    ),
    size: int = typer.Option(None, "--size", help="Input size, for models with a dynamic one."),
) -> None:
    """Import your own YOLOv5/v7/v8/v11-style ONNX export as a pack."""
    manifest = build_container().import_model(
        name, onnx_path, names_file=names_file, layout=layout, input_size=size
    )
    typer.echo(
        f"{manifest.ref}: layout {manifest.layout}, {len(manifest.class_names)} classes, "
        f"size {manifest.input_sizes[0]}"
    )
