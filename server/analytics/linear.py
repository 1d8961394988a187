"""Which unknowns a set of linear equations fixes exactly, and from which equations.

Suppression needs the exact answer, not a heuristic one: a hidden count is disclosed if
some combination of the published sums equals it, however long the chain. The test is
the textbook one: x is determined iff the unit vector e_x lies in the row space of the
equations' coefficients on the unknowns (the published values only move the right-hand
side). Gauss-Jordan elimination brings the rows to reduced echelon form, where that is
the case iff some row has a single non-zero coefficient.

The arithmetic is on Python integers (each row divided by the gcd of its entries), which
is exact like fractions and several times faster; every row also keeps the combination
of original equations it came from, so that the caller learns which published figures
gave a value away.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from math import gcd

Row = dict[int, int]


def _combine(a: int, row: Row, b: int, other: Row) -> Row:
    """a·row - b·other, without zero entries."""
    out = {k: a * v for k, v in row.items()}
    for k, v in other.items():
        value = out.get(k, 0) - b * v
        if value:
            out[k] = value
        else:
            out.pop(k, None)
    return out


def _normalise(coeffs: Row, origin: Row) -> None:
    """Divide both by the gcd of all their entries (keeps the integers small)."""
    divisor = 0
    for v in coeffs.values():
        divisor = gcd(divisor, v)
    for v in origin.values():
        divisor = gcd(divisor, v)
    if divisor > 1:
        for part in (coeffs, origin):
            for k in part:
                part[k] //= divisor


def determined(
    equations: Sequence[Mapping[Hashable, int]], targets: Iterable[Hashable]
) -> dict[Hashable, set[int]]:
    """The `targets` that `equations` fix exactly, each with the indices of the equations
    whose combination gives it. An equation maps unknowns to their integer coefficients;
    unknowns that appear in no equation are free."""
    keys: list[Hashable] = []
    index: dict[Hashable, int] = {}
    for equation in equations:
        for key in equation:
            if key not in index:
                index[key] = len(keys)
                keys.append(key)
    basis: list[tuple[Row, Row]] = []  # reduced rows: (coefficients, origin)
    pivot_of: dict[int, int] = {}  # column -> position in basis
    for number, equation in enumerate(equations):
        coeffs: Row = {index[k]: v for k, v in equation.items() if v}
        origin: Row = {number: 1}
        for col in [c for c in coeffs if c in pivot_of]:
            if col not in coeffs:
                continue
            p_coeffs, p_origin = basis[pivot_of[col]]
            a, b = p_coeffs[col], coeffs[col]
            coeffs, origin = _combine(a, coeffs, b, p_coeffs), _combine(a, origin, b, p_origin)
        if not coeffs:
            continue
        _normalise(coeffs, origin)
        col = min(coeffs)
        for i, (r_coeffs, r_origin) in enumerate(basis):  # keep every other row reduced
            if col in r_coeffs:
                a, b = coeffs[col], r_coeffs[col]
                r_coeffs = _combine(a, r_coeffs, b, coeffs)
                r_origin = _combine(a, r_origin, b, origin)
                _normalise(r_coeffs, r_origin)
                basis[i] = (r_coeffs, r_origin)
        pivot_of[col] = len(basis)
        basis.append((coeffs, origin))
    wanted = {index[t] for t in targets if t in index}
    return {
        keys[col]: set(origin)
        for coeffs, origin in basis
        if len(coeffs) == 1 and (col := next(iter(coeffs))) in wanted
    }
