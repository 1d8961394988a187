"""A queue ticket as plain data, and its picture as the printer will print it.

The whole ticket is one 1-bit raster image, whatever the language: thermal printers cannot
shape Arabic or order right-to-left text, and most hold no Greek, Ethiopic or Bengali
glyphs, so printing pictures is the one path that works for every visitor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import qrcode
from PIL import Image, ImageDraw

from printers import text
from server import i18n

PAPER_DOTS = {80: 576, 58: 384}  # printable dots across at 203 dpi
QR_BOX = 8  # dots per QR module: read back reliably by phones and by zxing
QR_BORDER = 2  # quiet zone, in modules
_GREEK = "el"


@dataclass(frozen=True)
class PrintedTicket:
    """What a printed ticket shows. No visit reason: the ticket may be seen by others."""

    centre: str  # the centre's name, in Greek
    number: str  # "A023"
    service_el: str  # the service, in Greek ("" for none: a ticket that must not say it)
    service: str  # the service, in the visitor's language
    lang: str  # the visitor's language, a Babel code: "ar", "fa_AF", "ti"
    issued_at: datetime  # aware; printed in Europe/Athens time
    people_ahead: int
    estimated_wait_s: int
    status_url: str  # where the visitor follows the queue; printed as a QR code

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")


def paper_dots(paper_mm: int) -> int:
    """Dots across for a paper width in millimetres (58 or 80)."""
    try:
        return PAPER_DOTS[paper_mm]
    except KeyError:
        raise ValueError(f"paper must be 58 or 80 mm, not {paper_mm}") from None


def labels(ticket: PrintedTicket) -> dict[str, str]:
    """The ticket's translated lines, in the visitor's language, with Latin digits."""
    tr = i18n.translations(ticket.lang, "printers")
    minutes = max(1, math.ceil(ticket.estimated_wait_s / 60))
    return {
        "your_number": tr.gettext("Your number"),
        "ahead": tr.gettext("People ahead of you: %(n)s") % {"n": ticket.people_ahead},
        "wait": tr.ngettext(
            "Estimated wait: about %(min)s minute",
            "Estimated wait: about %(min)s minutes",
            minutes,
        )
        % {"min": minutes},
        "wait_here": tr.gettext(
            "Please wait in the waiting room and watch the screen for your number."
        ),
        "scan": tr.gettext("Scan the code to follow your turn on your phone."),
    }


def issued_local(ticket: PrintedTicket) -> str:
    """Date and time as Greek tickets show them: 23/11/2026 13:05, Athens time."""
    return ticket.issued_at.astimezone(ZoneInfo(i18n.TIMEZONE)).strftime("%d/%m/%Y %H:%M")


def render(ticket: PrintedTicket, paper_mm: int = 80, *, dots: int | None = None) -> Image.Image:
    """The ticket without its QR code, as a mode "1" image as wide as the paper's dots.

    The QR code is added by `escpos_bytes.encode` (natively where the printer can) or by
    `preview`. `dots` overrides the paper's width for printers with fewer dots (TM-T88: 512).
    """
    width = dots or paper_dots(paper_mm)
    scale = width / PAPER_DOTS[80]
    text_scale = max(scale, 0.8)  # on 58 mm paper, text shrinks less than the paper
    margin = round(16 * scale)
    inner = width - 2 * margin
    lang = ticket.lang
    rtl = i18n.language(lang).rtl
    line = labels(ticket)

    def block(
        s: str, size: float, *, bold: bool = False, center: bool = True, greek: bool = False
    ) -> text.Block:
        style = text.Style(size * text_scale, bold, "center" if center else "start")
        return text.layout(s, style, inner, _GREEK if greek else lang, False if greek else rtl)

    # The number is as large as fits: about a quarter of the width in height.
    number_size = 200 * scale
    number = text.layout(ticket.number, text.Style(number_size, True), None, "en", False)
    if number.width > inner:
        number_size *= inner / number.width
        number = text.layout(ticket.number, text.Style(number_size, True), None, "en", False)

    # (block, gap above) in order, and None for a rule across the ticket.
    rows: list[tuple[text.Block | None, int]] = [
        (block(ticket.centre, 30, bold=True, greek=True), 0),
        (None, 10),
        (block(line["your_number"], 28), 8),
        (number, 18),
    ]
    if ticket.service_el:
        rows.append((block(ticket.service_el, 32, bold=True, greek=True), 22))
    if ticket.service and lang.split("_")[0] != _GREEK and ticket.service != ticket.service_el:
        rows.append((block(ticket.service, 32), 4))
    rows += [
        (block(issued_local(ticket), 28, greek=True), 8),
        (None, 12),
        (block(line["ahead"], 28, center=False), 8),
        (block(line["wait"], 28, center=False), 4),
        (None, 12),
        (block(line["wait_here"], 26, center=False), 8),
        (block(line["scan"], 26, center=False), 8),
    ]

    rule = max(2, round(3 * scale))
    placed: list[tuple[text.Block, int, int]] = []
    rules: list[int] = []
    y = margin
    for item, gap in rows:
        y += round(gap * scale)
        if item is None:
            rules.append(y)
            y += rule
        elif item is number:
            # Placed by its ink, not its line box, which is mostly empty at this size.
            placed.append((item, (width - item.width) // 2, y - item.ink_top))
            y += item.ink_height
        else:
            placed.append((item, margin, y))
            y += item.height
    height = y + margin
    image = text.draw(placed, width, height)
    draw = ImageDraw.Draw(image)
    for top in rules:
        draw.rectangle((margin, top, width - margin - 1, top + rule - 1), 0)
    return image


def qr_image(url: str, width: int) -> Image.Image:
    """The status URL as a QR code, centred on a mode "1" strip `width` dots wide."""
    code = qrcode.QRCode(border=QR_BORDER)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()  # modules with the quiet zone; True is dark
    size = len(matrix)
    box = min(QR_BOX, width // size)  # smaller modules only when a long URL would not fit
    if box < 2:
        raise ValueError(f"URL too long for a QR code {width} dots wide: {url}")
    modules = Image.new("L", (size, size))
    modules.putdata([0 if dark else 255 for row in matrix for dark in row])
    strip = Image.new("1", (width, size * box), 1)
    strip.paste(
        modules.resize((size * box, size * box), Image.Resampling.NEAREST).convert("1"),
        ((width - size * box) // 2, 0),
    )
    return strip


def preview(ticket: PrintedTicket, paper_mm: int = 80, *, dots: int | None = None) -> Image.Image:
    """The whole ticket as an image-QR printer prints it: `render` with the QR code below."""
    body = render(ticket, paper_mm, dots=dots)
    code = qr_image(ticket.status_url, body.width)
    image = Image.new("1", (body.width, body.height + code.height), 1)
    image.paste(body, (0, 0))
    image.paste(code, (0, body.height))
    return image
