"""The floors of the house: the engine stands alone, and the core never imports a feature.

The one exception is the app factory, `server/app.py`: it is where the features are
plugged in, so it names their blueprints, and nothing else in `server/` may.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURES = {"kiosk", "counter", "display"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_engine_imports_only_the_standard_library() -> None:
    code = (
        "import sys; import server.engine; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'werkzeug', 'alembic', 'jsonschema')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == ""
    local = [m for m in imported_modules(ROOT / "server" / "engine.py") if m.startswith(".")]
    assert local == []


COMPOSITION_ROOT = ROOT / "server" / "app.py"


def test_the_core_never_imports_a_feature() -> None:
    for path in (ROOT / "server").rglob("*.py"):
        if path == COMPOSITION_ROOT:
            continue
        for name in imported_modules(path):
            assert name.split(".")[0] not in FEATURES, f"{path} imports {name}"


def test_the_app_factory_takes_only_the_features_blueprints() -> None:
    for name in imported_modules(COMPOSITION_ROOT):
        if name.split(".")[0] in FEATURES:
            assert name.endswith(".blueprint"), name
