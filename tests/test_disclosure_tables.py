"""Complementary suppression on random tables: after protection, no hidden cell can be
worked out exactly from what a table publishes, and the threshold rules hold.

A table is rows x columns of counts with its row totals, column totals and grand total.
Whatever is left published (cells and totals) gives linear equations over the hidden
values; a hidden value x_i is determined exactly iff the unit vector e_i lies in the row
space of those equations restricted to the hidden unknowns. That is checked here with
exact rational Gauss-Jordan elimination (fractions.Fraction), independently of the
elimination the protection itself uses.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.analytics import suppression

Key = tuple[Any, ...]


def table_sums(grid: list[list[int]]) -> tuple[dict[Key, int], list[tuple[Key, tuple[Key, ...]]]]:
    """Every cell and total of `grid` by key, and the sums that tie them."""
    n_rows, n_cols = len(grid), len(grid[0])
    values: dict[Key, int] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            values[("cell", r, c)] = grid[r][c]
    for r in range(n_rows):
        values[("row", r)] = sum(grid[r])
    for c in range(n_cols):
        values[("col", c)] = sum(grid[r][c] for r in range(n_rows))
    values[("all",)] = sum(map(sum, grid))
    sums = [(("row", r), tuple(("cell", r, c) for c in range(n_cols))) for r in range(n_rows)]
    sums += [(("col", c), tuple(("cell", r, c) for r in range(n_rows))) for c in range(n_cols)]
    sums += [(("all",), tuple(("row", r) for r in range(n_rows)))]
    sums += [(("all",), tuple(("col", c) for c in range(n_cols)))]
    return values, sums


def determined_exactly(sums: list[tuple[Key, tuple[Key, ...]]], hidden: set[Key]) -> set[Key]:
    """The hidden values that the published ones fix: dense Gauss-Jordan over Fractions."""
    unknowns = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(unknowns)}
    matrix = []
    for total, parts in sums:
        row = [Fraction(0)] * len(unknowns)
        for key, sign in ((total, 1), *((p, -1) for p in parts)):
            if key in index:
                row[index[key]] += sign
        if any(row):
            matrix.append(row)
    pivot_row = 0
    pivots = []
    for col in range(len(unknowns)):
        found = next((r for r in range(pivot_row, len(matrix)) if matrix[r][col] != 0), None)
        if found is None:
            continue
        matrix[pivot_row], matrix[found] = matrix[found], matrix[pivot_row]
        lead = matrix[pivot_row][col]
        matrix[pivot_row] = [v / lead for v in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [
                    a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)
                ]
        pivots.append(col)
        pivot_row += 1
    # in reduced form, e_i is in the row space iff some row is e_i itself
    return {
        unknowns[col]
        for r, col in enumerate(pivots)
        if all(v == 0 for i, v in enumerate(matrix[r]) if i != col)
    }


grids = st.integers(1, 6).flatmap(
    lambda n_cols: st.lists(
        st.lists(st.integers(0, 12), min_size=n_cols, max_size=n_cols), min_size=1, max_size=6
    )
)


@settings(max_examples=400, deadline=None)
@given(grid=grids, threshold=st.integers(2, 10), sensitive=st.sets(st.integers(0, 5)))
def test_no_hidden_cell_can_be_worked_out(
    grid: list[list[int]], threshold: int, sensitive: set[int]
) -> None:
    """Small cells are hidden; in a sensitive column (a reason that must not be seen to
    be there at all) zeros too, except where a total of zero gives them away anyway."""
    values, sums = table_sums(grid)
    small = {
        k
        for k, v in values.items()
        if k[0] == "cell" and (0 < v < threshold or (k[2] in sensitive and v < threshold))
    }
    hidden = suppression.protect(values, sums, small, threshold)
    known_zero = {("cell", r, c) for r, c in ((k[1], k[2]) for k in small) if
                  values[("row", r)] == 0 or values[("col", c)] == 0}  # fmt: skip
    assert small - known_zero <= hidden and not hidden & known_zero
    assert not determined_exactly(sums, hidden), (grid, threshold, sorted(hidden))
    for key, value in values.items():  # a published total is nothing or at least the threshold
        if key[0] != "cell" and key not in hidden:
            assert value == 0 or value >= threshold, key
    for total, parts in sums:  # beside a published total: none hidden, or >= 2 worth enough
        if total in hidden:
            continue
        masked = [values[p] for p in parts if p in hidden]
        assert not masked or (len(masked) >= 2 and sum(masked) >= threshold), (total, masked)


def test_one_small_cell_beside_its_totals() -> None:
    """The case of the issue: one cell of a row is small, the row total is published."""
    values, sums = table_sums([[3, 9, 8], [6, 7, 10]])
    hidden = suppression.protect(values, sums, {("cell", 0, 0)}, 5)
    assert ("cell", 0, 0) in hidden and len(hidden) >= 4  # its row and column need partners
    assert not determined_exactly(sums, hidden)
    assert suppression.protect(values, sums, {("cell", 0, 0)}, 5) == hidden  # deterministic


def test_figures_published_elsewhere_stay_and_unseen_ones_count() -> None:
    """A fixed total (published by another report) is never hidden; a breakdown nobody
    sees (visits by service and reason) still ties the figures, and is taken into account."""
    # groups a, b, p (p small); a and p are served by service s1 only, b by s2
    values = {"a": 40, "b": 30, "p": 2, "all": 72, "s1": 42, "s2": 30,
              ("s1", "a"): 40, ("s1", "p"): 2, ("s2", "b"): 30}  # fmt: skip
    sums = [
        ("all", ("a", "b", "p")),
        ("s1", (("s1", "a"), ("s1", "p"))),
        ("s2", (("s2", "b"),)),
        ("a", (("s1", "a"),)),
        ("b", (("s2", "b"),)),
        ("p", (("s1", "p"),)),
    ]
    unseen = {("s1", "a"), ("s1", "p"), ("s2", "b")}
    hidden = suppression.protect(values, sums, {"p"}, 5, fixed={"all", "s1", "s2"}, unseen=unseen)
    # b (the smaller partner) hides p in the grand total, but s1 - a still gives p, so a
    # goes too; b itself is s2 anyway, which is no harm: it is no small count
    assert hidden & {"all", "s1", "s2"} == set() and hidden == {"p", "b", "a"}
    assert determined_exactly(sums, hidden | unseen) & {"a", "b", "p"} == {"b"}
