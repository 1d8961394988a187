"""The Erlang C queue model: how many counters keep waiting times within a target.

Visitors arrive at random (Poisson) at λ per hour, each takes S seconds on average at one
of c counters, and wait in one line. The offered load is A = λ·S/3600 erlangs. With c > A
the probability that a visitor waits at all is C(c, A), and the share called within t
seconds is 1 - C(c, A)·exp(-(c - A)·t/S). Pure functions, no I/O.
"""

from __future__ import annotations

import math

MAX_COUNTERS = 500  # a safety stop: no Community Centre has more desks than this


def erlang_b(c: int, load: float) -> float:
    """Blocking probability, by the stable recursion B(k) = A·B(k-1) / (k + A·B(k-1))."""
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def wait_probability(c: int, load: float) -> float:
    """C(c, A): the chance an arriving visitor has to wait; 1 when c <= A (no steady state)."""
    if load <= 0:
        return 0.0
    if c <= load:
        return 1.0
    b = erlang_b(c, load)
    return c * b / (c - load * (1 - b))


def service_level(c: int, load: float, service_s: float, within_s: float) -> float:
    """P(wait <= within_s) with c counters."""
    if load <= 0:
        return 1.0
    if c <= load or service_s <= 0:
        return 0.0
    return 1.0 - wait_probability(c, load) * math.exp(-(c - load) * within_s / service_s)


def counters_needed(
    arrivals_per_hour: float, service_s: float, target: float, within_s: float
) -> int:
    """The smallest c whose service level reaches `target` (0 when nobody comes)."""
    if not 0 < target < 1:
        raise ValueError("target must be a share between 0 and 1 (exclusive)")
    load = arrivals_per_hour * service_s / 3600.0
    if load <= 0:
        return 0
    c = max(1, math.floor(load) + 1)
    while service_level(c, load, service_s, within_s) < target:
        c += 1
        if c > MAX_COUNTERS:
            raise ValueError("the load is beyond any staffing this model can plan")
    return c
