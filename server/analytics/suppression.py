"""Complementary suppression: what else to hide so that no hidden count can be worked out.

Hiding a small count is not enough when a total is published beside it: the total minus
the other cells gives it back. The figures of a report are therefore protected as one
set of cells tied by sums (a total and its parts: a row, a column, a grand total, or a
total that another report publishes for the same period), in two steps:

1. The rule every statistics office applies to each sum whose total stays published:
   either none of its parts is hidden, or at least two are and together they hold at
   least the threshold; a total below the threshold with a hidden part is hidden too;
   a hidden total needs a second hidden member as well, or its parts rebuild it.
2. That rule is necessary but not sufficient (two groups of hidden cells linked by one
   cell give that cell away), so every hidden count is then checked exactly
   (`linear.determined`): any one that some combination of the published sums still
   fixes gets one more published figure of those sums hidden, and both steps run again.

Partners are chosen deterministically, smallest non-zero count first, in the order the
cells were given, so the same query always shows the same table. Zeros are hidden only
when nothing else can serve (a language with one visitor in the month leaves nothing but
zeros beside that visitor's reason), and only where no sum pins them: a part of a
published total of zero is known to be zero however it is shown.

Three kinds of cell besides the ordinary ones: `small` cells are hidden from the start
(a small zero too, unless a sum pins it);
`fixed` ones are published elsewhere and can never be hidden (visits per day, per
language); `unseen` ones are never published but still tie the figures (visits by
service and reason: the services report publishes the service totals, and routing makes
many of those cells known zeros).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

from . import linear

Key = Hashable
Sum = tuple[Key, Sequence[Key]]  # (total, parts)


class _Cells:
    """The values, what may be hidden, and the order in which partners are picked."""

    def __init__(
        self,
        values: Mapping[Key, int],
        sums: Sequence[Sum],
        threshold: int,
        fixed: Iterable[Key],
        unseen: Iterable[Key],
    ) -> None:
        self.values, self.threshold = values, threshold
        self.fixed, self.unseen = set(fixed), set(unseen)
        self.position = {key: i for i, key in enumerate(values)}
        self.totals_of: dict[Key, list[Key]] = {}
        for total, parts in sums:
            for part in parts:
                self.totals_of.setdefault(part, []).append(total)

    def pinned(self, key: Key, hidden: set[Key]) -> bool:
        """A zero known however it is shown: part of a published total of zero (only
        non-negative counts add up to nothing)."""
        return self.values[key] == 0 and any(
            self.values[t] == 0 and t not in hidden for t in self.totals_of.get(key, ())
        )

    def pick(self, candidates: Iterable[Key], hidden: set[Key], zeros: bool = True) -> Key | None:
        """The smallest non-zero candidate that may still be hidden (then a zero)."""
        open_ = [
            k
            for k in candidates
            if k not in hidden and k not in self.fixed and k not in self.unseen
            and (self.values[k] or (zeros and not self.pinned(k, hidden)))
        ]  # fmt: skip
        return min(
            open_, key=lambda k: (self.values[k] == 0, self.values[k], self.position[k]),
            default=None,
        )  # fmt: skip


def _complete(cells: _Cells, sums: Sequence[Sum], hidden: set[Key]) -> None:
    """Apply the rule of step 1 to every sum until none asks for more."""
    threshold = cells.threshold
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            if total in cells.unseen or any(p in cells.unseen for p in parts):
                continue  # left to the exact check
            masked = [p for p in parts if p in hidden]
            if total in hidden:
                if not masked and (choice := cells.pick(parts, hidden)) is not None:
                    hidden.add(choice)
                    changed = True
                continue
            if not masked:
                continue
            if cells.values[total] < threshold and total not in cells.fixed:
                hidden.add(total)
                changed = True
                continue
            worth = sum(cells.values[p] for p in masked)
            # beside a fixed total below the threshold, two hidden parts are all there can be
            enough = 0 if cells.values[total] < threshold else threshold
            while len(masked) < 2 or worth < enough:
                choice = cells.pick(parts, hidden, zeros=False)
                if choice is None and total not in cells.fixed:
                    choice = total
                elif choice is None:
                    choice = cells.pick(parts, hidden)
                if choice is None:
                    break  # a fixed total and nothing left to hide: the best there is
                hidden.add(choice)
                changed = True
                if choice == total:
                    break
                masked.append(choice)
                worth += cells.values[choice]


def _equations(sums: Sequence[Sum], unknown: set[Key]) -> list[dict[Key, int]]:
    """Each sum as total - parts = 0, on the unknowns only (the rest is the known side)."""
    out = []
    for total, parts in sums:
        row: dict[Key, int] = {}
        for key, sign in ((total, 1), *((p, -1) for p in parts)):
            if key in unknown:
                row[key] = row.get(key, 0) + sign
        out.append(row)
    return out


def protect(
    values: Mapping[Key, int],
    sums: Sequence[Sum],
    small: Iterable[Key],
    threshold: int,
    *,
    fixed: Iterable[Key] = (),
    unseen: Iterable[Key] = (),
) -> set[Key]:
    """The cells to hide: `small` ones and the partners that keep them from being worked
    out through `sums`. Unseen cells are not in the answer (they are never shown)."""
    small = set(small)
    cells = _Cells(values, sums, threshold, fixed, unseen)
    hidden = {k for k in small - cells.fixed - cells.unseen if not cells.pinned(k, small)}
    while True:
        _complete(cells, sums, hidden)
        equations = _equations(sums, hidden | cells.unseen)
        exposed = linear.determined(equations, hidden)
        added = False
        for key in sorted(exposed, key=cells.position.__getitem__):
            used = [sums[i] for i in sorted(exposed[key])]
            members = [k for total, parts in used for k in (total, *parts) if k != key]
            choice = cells.pick(members, hidden)
            if choice is None:  # nothing published in that chain: widen to its own sums
                own = [k for t, ps in sums if key == t or key in ps for k in (t, *ps)]
                choice = cells.pick(own, hidden)
            if choice is not None:
                hidden.add(choice)
                added = True
        if not added:
            return hidden
