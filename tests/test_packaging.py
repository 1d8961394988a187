"""Every library Seira's code imports is one of its own declared dependencies.

A library that arrives only through another one's requirements works today and breaks
the day that other one stops requiring it (python-escpos brings qrcode, Flask brings
Werkzeug): the code that imports it declares it itself, with the lowest version it was
tried with. What a plain install needs beyond the code's own imports (gunicorn's gevent
worker importing `packaging`) is tested by installing it: tests/test_clean_install.py.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
OWN = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_by(path: Path) -> set[str]:
    """The top-level modules a source file imports, absolutely, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def third_party_imports() -> dict[str, set[str]]:
    """Each library module imported by the package's code -> the files importing it."""
    where: dict[str, set[str]] = {}
    for package in OWN:
        for path in (ROOT / package).rglob("*.py"):
            for module in imported_by(path):
                if module in sys.stdlib_module_names or module in OWN or module == "__future__":
                    continue
                where.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return where


def test_every_imported_library_is_declared() -> None:
    # an extra's library (redis for several processes) is imported only where that extra
    # is in use, inside the function that needs it; the test extra is not the package's
    extras = [
        line for name, lines in PROJECT["optional-dependencies"].items() if name != "test"
        for line in lines
    ]  # fmt: skip
    declared = {_normal(Requirement(line).name) for line in [*PROJECT["dependencies"], *extras]}
    imports = third_party_imports()
    assert {"flask", "escpos", "qrcode"} <= set(imports)  # the walk sees the code
    distributions = packages_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in imports.items()
        if not {_normal(d) for d in distributions.get(module, [])} & declared
    }
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
