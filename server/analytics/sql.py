"""SQL building blocks that SQLite and PostgreSQL spell differently, and percentiles.

Times are stored as UTC; reports bucket by local day and hour with integer arithmetic on
epoch seconds plus the UTC offset in force (a CASE over the DST segments of the range),
so the same statement runs on both databases and no row is converted in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .periods import Segment

DAY_S = 86_400
HOUR_S = 3_600


class epoch(FunctionElement[int]):  # noqa: N801 - reads like the SQL function it stands for
    """Whole seconds since 1970-01-01 of a stored (naive UTC) timestamp."""

    type = BigInteger()
    name = "epoch"
    inherit_cache = True


@compiles(epoch)
@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    """unixepoch() where SQLite has it (3.38+): it parses a third faster than strftime."""
    arg = compiler.process(element.clauses, **kw)
    version = getattr(getattr(compiler.dialect, "dbapi", None), "sqlite_version_info", (0,))
    if version >= (3, 38):
        return f"unixepoch({arg})"
    return f"CAST(strftime('%s', {arg}) AS INTEGER)"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


def local_seconds(column: Any, segments: Sequence[Segment]) -> ColumnElement[int]:
    """Epoch seconds of `column` shifted to local wall-clock time."""
    if len(segments) == 1:
        return epoch(column) + segments[0].offset_s
    whens = [(column < seg.start, prev.offset_s) for prev, seg in pairwise(segments)]
    return epoch(column) + case(*whens, else_=segments[-1].offset_s)


def local_hour(local_s: ColumnElement[int]) -> ColumnElement[int]:
    return (local_s % DAY_S) // HOUR_S


def local_day(local_s: ColumnElement[int]) -> ColumnElement[int]:
    """Days since 1970-01-01 (local): periods.day_from_number turns it back into a date."""
    return local_s // DAY_S


def weekday_of_day_number(day: ColumnElement[int]) -> ColumnElement[int]:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def distribution(source: Any, keys: Sequence[str], value: str) -> Any:
    """(keys..., value, how many) per group and distinct value, in order.

    Durations are whole seconds, so a year of visits folds into a few thousand rows per
    group: the database groups and counts (no sort of every visit, no window), and
    `summarise` reads exact percentiles off the counts.
    """
    cols = [source.c[k] for k in keys]
    v = source.c[value]
    return select(*cols, v.label("v"), func.count().label("n")).group_by(*cols, v)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    p50: float
    p90: float
    within: int  # how many values are <= the `within` asked for


def _at_rank(counts: Sequence[tuple[float, int]], rank: int) -> float:
    """The value at 0-based `rank` of the sorted values that `counts` describes."""
    seen = 0
    for value, n in counts:
        seen += n
        if rank < seen:
            return value
    return counts[-1][0]


def _percentile(counts: Sequence[tuple[float, int]], n: int, p: int) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont, numpy's
    default): h = (n - 1)·p/100, value = x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋])."""
    scaled = (n - 1) * p
    lower = _at_rank(counts, scaled // 100)
    upper = _at_rank(counts, min(scaled // 100 + 1, n - 1))
    return lower + (upper - lower) * (scaled % 100) / 100


def summarise(counts: Sequence[tuple[Any, int]], within: float | None = None) -> Summary | None:
    """n, mean, median, 90th percentile and count <= `within` of (value, how many) pairs."""
    counts = sorted((float(v), int(n)) for v, n in counts if v is not None and n)
    total = sum(n for _, n in counts)
    if not total:
        return None
    return Summary(
        n=total,
        mean=sum(v * n for v, n in counts) / total,
        p50=_percentile(counts, total, 50),
        p90=_percentile(counts, total, 90),
        within=sum(n for v, n in counts if within is not None and v <= within),
    )


def summaries(
    rows: Iterable[Any], n_keys: int, within: float | None = None
) -> dict[tuple[Any, ...], Summary]:
    """`distribution` rows -> a Summary per group key."""
    groups: dict[tuple[Any, ...], list[tuple[Any, int]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[:n_keys]), []).append((row[n_keys], row[n_keys + 1]))
    out = {}
    for key, counts in groups.items():
        found = summarise(counts, within)
        if found is not None:
            out[key] = found
    return out
