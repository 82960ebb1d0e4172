"""The layering rules of STYLE.md, checked on the source tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "argus"
DOMAIN = SRC / "domain"
ALLOWED_THIRD_PARTY = {"numpy"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _forbidden(names: set[str]) -> list[str]:
    bad = []
    for name in names:
        root = name.split(".")[0]
        if root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY:
            continue
        if name == "argus.domain" or name.startswith("argus.domain."):
            continue
        bad.append(name)
    return sorted(bad)


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_imports_only_stdlib_numpy_and_itself(path: Path) -> None:
    assert _forbidden(_imported_roots(path)) == []


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"os", "numpy.typing", "argus.domain.frames"}, []),
        ({"cv2"}, ["cv2"]),
        ({"argus.adapters.video"}, ["argus.adapters.video"]),
        ({"argus.config"}, ["argus.config"]),
        ({"onnxruntime", "json"}, ["onnxruntime"]),
    ],
    ids=["allowed", "opencv", "adapter", "outside-domain", "runtime"],
)
def test_the_domain_rule_itself_catches_violations(names: set[str], expected: list[str]) -> None:
    assert _forbidden(names) == expected


def test_import_linter_contracts_hold() -> None:
    """Layers flow one way and only the composition root imports adapters."""
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(exe), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC.parents[1],
    )
    assert result.returncode == 0, result.stdout + result.stderr
