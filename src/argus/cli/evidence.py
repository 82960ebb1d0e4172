"""``argus evidence verify|public-key|rotate-key|rewrap``: signed bundles and evidence keys.

``verify`` works offline on a bundle alone (no database, no settings): it
checks the Ed25519 signature of the manifest, every file's sha256 and every
item's recorded plaintext sha256, and, given ``--public-key``, that the bundle
was signed by that installation. It prints each check and exits with status 1
when one fails. The other commands read the settings (``ARGUS_*``).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import typer

from argus.bootstrap.evidence import open_evidence_admin, rotate_evidence_key
from argus.bootstrap.policies import evidence_signer
from argus.cli._settings import load_settings
from argus.domain.errors import ConfigError
from argus.services.evidence import verify_bundle

__all__ = ["evidence_app"]

evidence_app = typer.Typer(
    help="Check signed evidence bundles offline; rotate and re-wrap evidence keys.",
    no_args_is_help=True,
)

_DATA_DIR = typer.Option(
    None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
)
_HEX_KEY = re.compile(r"\b[0-9a-fA-F]{64}\b")


def _public_key(value: str) -> bytes:
    """A key given as 64 hex digits, or a file holding them (``public-key``'s output)."""
    path = Path(value)
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else value
    found = _HEX_KEY.search(text)
    if found is None:
        raise ConfigError(f"--public-key: no 64-hex-digit Ed25519 public key in {value!r}")
    return bytes.fromhex(found.group(0))


@evidence_app.command("verify")
def verify(
    bundle: Path = typer.Argument(..., help="The exported .zip bundle."),
    public_key: str | None = typer.Option(
        None,
        "--public-key",
        metavar="HEX|FILE",
        help="The installation's public key (64 hex digits, or a file holding them, such as "
        "the output of 'argus evidence public-key'); without it any signer is accepted.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check a bundle offline; exit 1 if any check fails."""
    pinned = None if public_key is None else _public_key(public_key)
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{bundle}: {exc.strerror or exc}") from exc
    report = verify_bundle(data, pinned)
    if as_json:
        checks = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks]
        payload = {"ok": report.ok, "fingerprint": report.fingerprint, "checks": checks}
        typer.echo(json.dumps(payload, indent=2))
    else:
        for check in report.checks:
            mark = (
                typer.style("ok  ", fg=typer.colors.GREEN)
                if check.ok
                else typer.style("FAIL", fg=typer.colors.RED)
            )
            typer.echo(f"{mark} {check.name}: {check.detail}")
        verdict = "VALID" if report.ok else f"INVALID ({len(report.failures)} failed)"
        typer.echo(f"bundle {verdict}: {report.items} item(s), key {report.fingerprint or '-'}")
    if not report.ok:
        raise typer.Exit(1)


@evidence_app.command("public-key")
def public_key(
    hex_only: bool = typer.Option(False, "--hex", help="Print only the key's hex digits."),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Print the installation's bundle-signing public key and its fingerprint."""
    signer = evidence_signer(load_settings(data_dir))
    if hex_only:
        typer.echo(signer.public_key.hex())
        return
    typer.echo(f"public key:  {signer.public_key.hex()}")
    typer.echo(f"fingerprint: {signer.fingerprint}")


@evidence_app.command("rotate-key")
def rotate_key(data_dir: Path | None = _DATA_DIR) -> None:
    """Add a new current master key to the key file (old evidence keeps reading)."""
    kid = rotate_evidence_key(load_settings(data_dir))
    typer.echo(f"new current evidence key: {kid}")
    typer.echo("restart running servers, then run 'argus evidence rewrap' to move old evidence")


@evidence_app.command("rewrap")
def rewrap(data_dir: Path | None = _DATA_DIR) -> None:
    """Re-wrap every data key under the current master key (ciphertext is untouched)."""
    settings = load_settings(data_dir)

    async def run() -> tuple[int, str]:
        service, close = await open_evidence_admin(settings)
        try:
            return await service.rewrap(), service.current_kid
        finally:
            await close()

    count, kid = asyncio.run(run())
    typer.echo(f"re-wrapped {count} evidence item(s) under key {kid}")
