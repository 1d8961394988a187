"""A kiosk's printer: where it is and how to talk to it, a test ticket in any language,
and what its latest prints did."""

from __future__ import annotations

from typing import Any

from escpos.capabilities import CAPABILITIES
from flask import flash, redirect, render_template, request, url_for

from printers import PrinterUrlError, describe, parse_printer_url, printer_url
from printers.backends import IMPLS, QR_MODES, SCHEMES
from server import i18n
from server.extensions import desk
from server.i18n import N_
from server.web import i18n_pages, print_labels, staff_required

from .views import Page, configurable, who

PROFILES = sorted(CAPABILITIES["profiles"], key=lambda p: (p != "default", p.lower()))
FIELDS = ("scheme", "address", "profile", "paper", "impl", "qr", "status", "options")
# what the URL's rules say of each part, in the reader's language
PART_PROBLEMS = {
    "scheme": N_("Choose how the printer is connected."),
    "address": N_("This is not an address this connection understands; see the example."),
    "profile": N_("Unknown printer model."),
    "paper": N_("Paper is 58 or 80 mm wide."),
    "impl": N_("Choose how pictures are sent."),
    "qr": N_("Choose how the QR code is printed."),
    "status": N_("Choose whether the printer is asked for its state."),
    "options": N_("Write the other settings as name=value, for example baudrate=19200."),
}
EXAMPLES = {
    "tcp": "10.0.0.5:9100",
    "usb": "04b8:0e15",
    "serial": "/dev/ttyUSB0",
    "cups": "Kiosk_Printer",
    "file": "/var/spool/seira/kiosk.bin",
}


def _page(
    site: str, device_id: int, fields: dict[str, str], status: int = 200, **more: Any
) -> Page:
    found = configurable(site)
    kiosk = desk().kiosk_printer(who(), found.slug, device_id)
    page = render_template(
        "admin/printer.html",
        site=found,
        site_name=i18n.label(found.name, i18n_pages.lang()),
        kiosk=kiosk,
        fields=fields,
        schemes=SCHEMES,
        profiles=PROFILES,
        impls=IMPLS,
        qr_modes=list(QR_MODES),
        examples=EXAMPLES,
        languages=i18n.LANGUAGES,
        prints=print_labels.words(),
        **more,
    )
    return (page, status) if status != 200 else page


def _current(site: str, device_id: int) -> dict[str, str]:
    kiosk = desk().kiosk_printer(who(), configurable(site).slug, device_id)
    if not kiosk["printer"]:
        return {
            "scheme": "tcp",
            "profile": "default",
            "paper": "80",
            "impl": "raster",
            "qr": "auto",
            "status": "on",
            "address": "",
            "options": "",
        }
    return describe(parse_printer_url(kiosk["printer"]))


@staff_required
def printer(site: str, device_id: int) -> Page:
    found = configurable(site)
    if request.method == "GET":
        return _page(site, device_id, _current(site, device_id))
    form = request.form
    if form.get("scheme") == "none":
        desk().set_printer(who(), found.slug, device_id, None)
        flash(i18n_pages.gettext("This kiosk has no printer now: the screen is the ticket."))
        return redirect(url_for("admin.printer", site=found.slug, device_id=device_id))
    fields = {name: form.get(name, "").strip() for name in FIELDS}
    try:
        url = printer_url(**fields)
        desk().set_printer(who(), found.slug, device_id, url)
    except PrinterUrlError as exc:
        problem = {exc.part: i18n_pages.gettext(PART_PROBLEMS[exc.part])}
        return _page(site, device_id, fields, 422, errors=problem, detail=str(exc))
    flash(i18n_pages.gettext("Saved. The next ticket prints there."))
    return redirect(url_for("admin.printer", site=found.slug, device_id=device_id))


@staff_required
def test(site: str, device_id: int) -> Page:
    found = configurable(site)
    lang = request.form.get("lang", "el")
    if lang not in i18n.LANGUAGES:
        lang = "el"
    result = desk().test_printer(who(), found.slug, device_id, lang)
    return _page(site, device_id, _current(site, device_id), tested=result, tested_lang=lang)
