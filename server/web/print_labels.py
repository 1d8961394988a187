"""What became of a kiosk's printed ticket, in words for staff.

The counter, the supervisor's view and a kiosk's printer page say it the same way; the
codes are those of `printers.Outcome` and `printers.Reason`, which the event log keeps.
"Sent, not confirmed" is said as such: the paper may or may not have come out.
"""

from __future__ import annotations

from ..i18n import N_
from . import i18n_pages

STATUSES = {
    "printed": N_("printed"),
    "unconfirmed": N_("sent, not confirmed by the printer"),
    "failed": N_("not printed"),
}
REASONS = {
    "paper_out": N_("out of paper"),
    "offline": N_("printer offline: cover open or an error"),
    "unreachable": N_("printer not reachable"),
    "send_failed": N_("the printer stopped taking the ticket"),
    "no_answer": N_("the printer did not answer"),
    "not_asked": N_("this printer is not asked for its state"),
    "busy": N_("too many tickets waiting for this printer"),
    "stopped": N_("the server was stopping"),
    "interrupted": N_("the server stopped in the middle of this print"),
    "no_library": N_("the software for this connection is not installed"),
    "rendering": N_("the ticket could not be drawn"),
    "error": N_("an unexpected error"),
}


def words() -> dict[str, dict[str, str]]:
    """Both tables in the staff member's language: {"statuses": ..., "reasons": ...}."""
    return {
        "statuses": {code: i18n_pages.gettext(text) for code, text in STATUSES.items()},
        "reasons": {code: i18n_pages.gettext(text) for code, text in REASONS.items()},
    }


def describe(status: str, reason: str | None) -> str:
    """One print's outcome as a phrase: "not printed: out of paper"."""
    said = i18n_pages.gettext(STATUSES.get(status, status))
    if reason and reason in REASONS:
        return f"{said}: {i18n_pages.gettext(REASONS[reason])}"
    return said
