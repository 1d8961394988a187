"""A plain `pip install .` gives a server that runs: everything the server imports comes
from a distribution that Seira's own requirements bring in, without the test extras.

The test environment holds more than a centre's install (pytest, playwright, their
dependencies), so a module imported by the server but declared only by a test tool would
work here and fail there; gunicorn's gevent worker importing `packaging` was one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires

from packaging.requirements import Requirement

# In a child interpreter: every module whose distribution a plain install would not have
# is made unimportable, as if it were not there (optional imports then fall back, as they
# do on a centre's machine); then the server is imported and its app made.
CHILD = """
import importlib.abc, json, sys
blocked = set(json.loads(sys.argv[1]))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
import gunicorn.workers.ggevent, server.serve, server.cli
from server.app import create_app
create_app("sqlite://")
"""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_without_extras(root: str) -> set[str]:
    """The distributions `pip install root` brings in: its requirements, transitively,
    without any extra."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if _normal(name) in seen:
            continue
        seen.add(_normal(name))
        try:
            wanted = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in wanted:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def test_the_server_starts_with_only_what_seira_requires() -> None:
    declared = installed_without_extras("seira")
    assert {"gevent", "flask", "sqlalchemy"} <= declared  # the closure is read
    blocked = sorted(
        module
        for module, dists in packages_distributions().items()
        if not any(_normal(dist) in declared for dist in dists)
    )
    assert "pytest" in blocked and "playwright" in blocked  # the test tools are out
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(blocked)], capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
