"""The floors of the house: the queue's rules stand alone, the queue knows nothing of the
web, and the core never imports a feature.

A feature is a top-level package with a `blueprint.py` (its URL table). The one place in
the core that names features is the app factory, `server/app.py`: it plugs their
blueprints in, and takes nothing else from them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEATURES = {p.parent.name for p in ROOT.glob("*/blueprint.py")}
COMPOSITION_ROOT = ROOT / "server" / "app.py"
WEB = ("flask", "flask_socketio", "werkzeug", "jinja2")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what a module imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            if node.module:
                names.add(".".join([*base, node.module]))
            else:  # `from .. import catalog`: the names are modules of the package
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


def test_the_features_are_the_packages_with_a_url_table() -> None:
    assert {
        "kiosk",
        "counter",
        "display",
        "status",
        "reports",
        "staff",
        "languages",
        "admin",
    } == FEATURES


def test_the_rules_import_only_the_standard_library() -> None:
    code = (
        "import sys; import server.queue.rules; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'werkzeug', 'alembic', 'jsonschema')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == ""
    local = imported_modules(ROOT / "server" / "queue" / "rules.py")
    assert not [m for m in local if m.split(".")[0] in {"server", "printers", *FEATURES}]


def test_the_queue_knows_nothing_of_the_web() -> None:
    """Transactions, reads and news are plain Python over SQLAlchemy: the web calls them
    through the front desk, never the other way round."""
    web_layers = ("server.api", "server.web", "server.realtime", "server.frontdesk")
    for path in (ROOT / "server" / "queue").glob("*.py"):
        for name in imported_modules(path):
            assert not name.startswith(WEB), f"{path.name} imports {name}"
            assert not name.startswith(web_layers), f"{path.name} imports {name}"


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


def test_imported_modules_resolves_relative_imports() -> None:
    """The checks above read relative imports correctly (a check that reads nothing passes)."""
    names = imported_modules(ROOT / "server" / "queue" / "transactions.py")
    assert {"server.catalog", "server.queue.rules", "sqlalchemy"} <= names
