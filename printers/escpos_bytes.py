"""Turning a ticket image into the ESC/POS bytes a thermal printer prints.

python-escpos writes the commands into its `Dummy` printer, whose bytes are then sent by
any connection (`backends`) or kept by the print queue for a retry. Only images are sent,
never text, so the printer's code pages and the library's code-page bug after `ESC @`
play no part.
"""

from __future__ import annotations

from escpos.capabilities import get_profile
from escpos.exceptions import ImageWidthError
from escpos.printer import Dummy
from PIL import Image

from printers.ticket import PrintedTicket, paper_dots, qr_image, render

IMPLS = {"raster": "bitImageRaster", "graphics": "graphics", "column": "bitImageColumn"}
NATIVE_QR_SIZE = 8  # dots per module, as for the image QR code


def supports_native_qr(profile: str) -> bool:
    """Whether the printer profile says the printer draws QR codes itself (`GS ( k`)."""
    return bool(get_profile(profile).supports("qrCode"))


def profile_dots(profile: str) -> int | None:
    """The dots across the profile declares, or None where it does not say."""
    media = get_profile(profile).profile_data.get("media", {})
    try:
        return int(media["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return None


def encode(
    image: Image.Image,
    qr_url: str | None,
    profile: str = "default",
    native_qr: bool | None = None,
    impl: str = "raster",
) -> bytes:
    """The bytes for `image`, then the QR code of `qr_url` (if any), then a cut.

    `native_qr=None` lets the profile decide; True insists on the printer's own QR command
    (ValueError if the profile lacks it); False always sends the QR code as an image, for
    printers whose native QR is broken. `impl` is the image command: raster (`GS v 0`),
    graphics (`GS ( L`) or column (`ESC *`); cheap printers differ in which works.
    """
    try:
        command = IMPLS[impl]
    except KeyError:
        raise ValueError(f"impl must be one of {', '.join(IMPLS)}, not {impl!r}") from None
    printer = Dummy(profile=profile)
    if native_qr is None:
        native_qr = printer.profile.supports("qrCode")
    elif native_qr and not printer.profile.supports("qrCode"):
        raise ValueError(f"printer profile {profile!r} has no native QR codes")
    printer.hw("INIT")
    try:
        printer.image(image, impl=command)
        if qr_url and native_qr:
            printer.set(align="center")  # qr(center=True) is not implemented for native codes
            printer.qr(qr_url, size=NATIVE_QR_SIZE, native=True)
            printer.set(align="left")
        elif qr_url:
            printer.image(qr_image(qr_url, image.width), impl=command)
    except ImageWidthError as exc:
        raise ValueError(f"image wider than printer profile {profile!r} allows: {exc}") from exc
    printer.cut()
    return printer.output


def ticket_bytes(
    ticket: PrintedTicket,
    paper_mm: int = 80,
    profile: str = "default",
    native_qr: bool | None = None,
    impl: str = "raster",
) -> bytes:
    """Render and encode a ticket for one printer: what a print job sends."""
    dots = paper_dots(paper_mm)
    declared = profile_dots(profile)
    if declared is not None:  # e.g. TM-T88 printers have 512 dots on 80 mm paper
        dots = min(dots, declared)
    image = render(ticket, paper_mm, dots=dots)
    return encode(image, ticket.status_url, profile, native_qr, impl)
