"""Small counts in reports: what is hidden, and when figures by visit reason are shown.

A handful of visitors in a cell can be recognised, and a visit reason can be
special-category data (violence, asylum). Two rules keep such counts from being read
off the reports, including by comparing several of them:

1. Within a report, a count from 1 to threshold - 1 that is sensitive (a sensitive reason,
   or a reason crossed with a language or a day) is hidden, and so are the partners that
   stop it from being worked out from the totals published beside it or in another
   report of the same period (`suppression`). Every hidden figure shows the same
   marker, `HIDDEN`, whether small itself or hidden as a partner: a separate "<5" would
   tell a partner from a small count and, with the totals, often give the small one back.

2. Figures split by visit reason are published only for one centre and one whole
   calendar month. Any other period or set of centres gets those tables withheld, with
   a note saying why, and never a sum over such pieces. The reason is differencing:
   - Allowing any from/to range lets "1 June to d" minus "1 June to d - 1" give the
     exact count of day d. Snapping ranges to whole months does not help either:
     "January to March" minus "January to February" is March exactly.
   - Hiding only the sensitive cells on other ranges does not help: the total visits of
     any range are published (services, languages, arrivals), so the total minus the
     other reasons gives the hidden one back. Nor does rounding every such cell to a
     base: the rounded values of many overlapping ranges pin the counts down again.
   - Months are the only period offered. Weeks and months overlap without nesting,
     and chains of weeks and months between boundaries where both meet (1 September
     2025 and 1 December 2025 are Mondays) give a hidden month back from published
     weeks. A year is the sum of its months, so one hidden month would be the year
     minus the other eleven; the same holds for several centres against each one.
   Calendar months partition time, so no published reason figure is the sum or the
   difference of others, and each month is protected on its own with every total any
   report publishes for that centre and month (see `reason_figures`).

The threshold is configurable (`SEIRA_REPORTS_MIN_COUNT`, default 5). Zero is shown, and
every reason, language and day of the month has its row even when it is zero: a row
that is missing would say as much as a number.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from .periods import month_bounds

DEFAULT_THRESHOLD = 5
ENV = "SEIRA_REPORTS_MIN_COUNT"
HIDDEN = "x"


def threshold(configured: Any = None) -> int:
    """The configured threshold (app config, then the environment), at least 1."""
    value = configured if configured is not None else os.environ.get(ENV, DEFAULT_THRESHOLD)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD


def is_hidden(value: Any) -> bool:
    return value == HIDDEN


def shown(count: int, hidden: bool) -> int | str:
    """A protected count as every output writes it."""
    return HIDDEN if hidden else count


def reason_split_published(site_ids: tuple[int, ...], first: date, last: date) -> bool:
    """Whether figures split by visit reason may be shown: one centre, one whole month."""
    return len(site_ids) == 1 and (first, last) == month_bounds(first)
