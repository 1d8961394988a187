"""Small-count suppression: a few visitors in a cell can be recognised, so they are hidden.

A cell that combines a visit reason with a language or a day, or that counts a sensitive
reason, shows "<5" (with the configured threshold) instead of a count from 1 to 4. Zero is
shown: it tells nothing about anybody. Suppression happens once, in the reports, so pages,
JSON, CSV and XLSX all show the same thing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

DEFAULT_THRESHOLD = 5
ENV = "SEIRA_REPORTS_MIN_COUNT"


def threshold(configured: Any = None) -> int:
    """The configured threshold (app config, then the environment), at least 1."""
    value = configured if configured is not None else os.environ.get(ENV, DEFAULT_THRESHOLD)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD


def mask(count: int, minimum: int) -> int | str:
    """`count`, or "<minimum" when it is small but not zero."""
    return f"<{minimum}" if 0 < count < minimum else count


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<")


def mask_rows(
    rows: Iterable[dict[str, Any]],
    fields: Iterable[str],
    minimum: int,
    dependent: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Mask `fields` in every row; `dependent` fields (a share) vanish with a masked count."""
    fields, dependent = list(fields), list(dependent)
    out = []
    for row in rows:
        new = dict(row)
        for f in fields:
            new[f] = mask(int(row[f]), minimum)
            if is_masked(new[f]):
                for d in dependent:
                    new[d] = None
        out.append(new)
    return out
