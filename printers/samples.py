"""A fixed sample ticket in every language: for a printer's test page, tests and benchmarks.

Fixed time and URL, so the same input always gives the same picture (golden images).
"""

from __future__ import annotations

from datetime import UTC, datetime

from printers.ticket import PrintedTicket

CENTRE = "Κέντρο Κοινότητας Δήμου Θεσσαλονίκης"
ISSUED_AT = datetime(2026, 11, 23, 11, 5, tzinfo=UTC)  # 13:05 in Athens
STATUS_URL = "https://seira.example.gr/t/thess-east/7Kq2Xz"
SOCIAL_SERVICE = {  # "Social service", as a centre's configuration would name it
    "el": "Κοινωνική υπηρεσία",
    "en": "Social service",
    "ar": "الخدمة الاجتماعية",
    "fa": "خدمات اجتماعی",
    "fa_AF": "خدمات اجتماعی",
    "ur": "سماجی خدمات",
    "ps": "ټولنیز خدمات",
    "ku": "Karûbarê civakî",
    "ckb": "خزمەتگوزاریی کۆمەڵایەتی",
    "fr": "Service social",
    "uk": "Соціальна служба",
    "ru": "Социальная служба",
    "sq": "Shërbimi social",
    "bn": "সমাজসেবা",
    "so": "Adeegga bulshada",
    "ti": "ማሕበራዊ ኣገልግሎት",
}


def sample_ticket(lang: str, number: str = "A023") -> PrintedTicket:
    """Ticket A023 for the social service, 4 people ahead, about 14 minutes to wait."""
    return PrintedTicket(
        centre=CENTRE,
        number=number,
        service_el=SOCIAL_SERVICE["el"],
        service=SOCIAL_SERVICE.get(lang, SOCIAL_SERVICE["en"]),
        lang=lang,
        issued_at=ISSUED_AT,
        people_ahead=4,
        estimated_wait_s=14 * 60,
        status_url=STATUS_URL,
    )
