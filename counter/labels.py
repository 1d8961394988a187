"""Words for the codes staff see: outcomes, agencies, priority kinds, states, languages."""

from __future__ import annotations

from babel import Locale

from server import i18n
from server.i18n import N_
from server.web import i18n_pages

OUTCOMES = {
    "served": N_("Served here"),
    "referred_internal": N_("Referred to another service of the centre"),
    "referred_external": N_("Referred to an external agency"),
    "appointment": N_("Appointment booked"),
}
AGENCIES = {
    "tax_office": N_("Tax office (ΔΟΥ)"),
    "efka": N_("Social security (e-ΕΦΚΑ)"),
    "dypa": N_("Public employment service (ΔΥΠΑ)"),
    "asylum": N_("Asylum Service"),
    "migration_ministry": N_("Ministry of Migration"),
    "hospital": N_("Hospital"),
    "other": N_("Other agency"),
}
PRIORITIES = {
    "none": N_("No priority"),
    "disability": N_("Disability"),
    "elderly": N_("Elderly"),
    "pregnancy": N_("Pregnancy"),
    "with_infant": N_("With a baby"),
}
STATUSES = {
    "waiting": N_("Waiting"),
    "called": N_("Called"),
    "serving": N_("Being served"),
    "done": N_("Finished"),
    "no_show": N_("Did not come"),
    "cancelled": N_("Left"),
    "closed": N_("Closed at day end"),
}
# the database's fault codes (server.db.fault_of), as staff are told them: a 503 on the
# counter page, and the banner of the supervisor's live view while the fault lasts
FAULTS = {
    "database_busy": N_(
        "The database is held by another program: nothing can be saved for now. It goes on "
        "by itself once it is free."
    ),
    "database_full": N_(
        "The server's disk is full: nothing can be saved. Tell the administrator; it goes on "
        "by itself once there is space."
    ),
    "database_read_only": N_(
        "The database cannot be written (read-only): nothing can be saved. Tell the administrator."
    ),
    "database_io_error": N_(
        "The server cannot write its database (a disk error): nothing can be saved. Tell the "
        "administrator."
    ),
    "database_unavailable": N_(
        "The database cannot be reached: nothing can be saved. Tell the administrator."
    ),
}
STATES = {
    "available": N_("Available"),
    "paused": N_("Paused"),
    "signed_out": N_("Signed out"),
}

MEDIATOR_STATES = {
    "available": N_("Free to interpret"),
    "busy": N_("Busy"),
    "away": N_("Away"),
}


def translated(table: dict[str, str]) -> dict[str, str]:
    return {code: i18n_pages.gettext(text) for code, text in table.items()}


def languages() -> dict[str, dict[str, str]]:
    """Each visitor language in the staff member's language and in its own name."""
    staff_lang = i18n_pages.lang()
    return {
        code: {
            "name": Locale.parse(code).get_display_name(staff_lang) or lang.english,
            "native": lang.native,
        }
        for code, lang in i18n.LANGUAGES.items()
    }
