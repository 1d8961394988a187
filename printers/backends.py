"""Where a kiosk's printer is, written as a URL, and python-escpos connections to it.

    tcp://10.0.0.5:9100?profile=TM-T20II&paper=80
    usb://04b8:0e15?profile=TM-T20II
    serial:///dev/ttyUSB0?baudrate=19200&paper=58
    cups://Kiosk_Printer
    file:///var/spool/seira/kiosk1.bin        (appends each ticket's bytes)

Query parameters common to all: `profile` (a python-escpos printer profile, default
"default"), `paper` (58 or 80 mm, default 80), `impl` (raster, graphics or column, default
raster), `qr` (auto, native or image, default auto) and `status` (on or off: whether to ask
the printer for its status before printing, and after it to confirm the ticket; off, every
ticket is "sent, unconfirmed"). Others are the connection's own, see `_OPTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from escpos.capabilities import get_profile
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import CupsPrinter, File, Network, Serial, Usb

from printers.escpos_bytes import IMPLS

SCHEMES = ("tcp", "usb", "serial", "cups", "file")
QR_MODES = {"auto": None, "native": True, "image": False}
# Connection options each scheme accepts in its query string, with their types.
_OPTIONS: dict[str, dict[str, type]] = {
    "tcp": {},
    "usb": {"in_ep": int, "out_ep": int, "interface": int},
    "serial": {"baudrate": int, "bytesize": int, "parity": str, "stopbits": int, "dsrdtr": bool},
    "cups": {"host": str, "port": int},
    "file": {},
}
_EXTRAS = {"usb": (Usb, "usb"), "serial": (Serial, "serial"), "cups": (CupsPrinter, "cups")}
# DLE EOT status bytes (the bits python-escpos tests, in escpos.constants): bit 3 of the
# printer status is "offline"; bits 5-6 of the paper sensor status are "paper end" and
# bits 2-3 "near end".
_OFFLINE = 0x08
_PAPER_END, _PAPER_NEAR_END = 0x60, 0x0C
# Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear: other bytes read back
# are not an answer (a printer that echoes, or sends something else of its own).
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


class PrinterUrlError(ValueError):
    """A printer URL that cannot be used; `part` says which of its parts is wrong
    (scheme, address, profile, paper, impl, qr, status or options), so that a form can
    show the reason next to that field."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part


class BackendError(RuntimeError):
    """A printer cannot be reached through its connection, or its extra is not installed."""


@dataclass(frozen=True)
class PrinterConfig:
    """A parsed printer URL: where the printer is and how to talk to it."""

    url: str
    scheme: str  # one of SCHEMES
    target: str  # host, "VID:PID", device path, CUPS queue or file path
    port: int | None = None  # tcp only
    profile: str = "default"
    paper_mm: int = 80
    impl: str = "raster"
    native_qr: bool | None = None  # None: as the profile says
    check_status: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer says about itself; None where it cannot tell (treat as a hint)."""

    online: bool | None
    paper: str | None  # "ok", "low" or "out"


def parse_printer_url(url: str) -> PrinterConfig:
    """Parse a printer URL (see the module's docstring); PrinterUrlError says what is wrong."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise PrinterUrlError(
            "scheme", f"printer URL {url!r}: scheme must be one of {', '.join(SCHEMES)}"
        )
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in query:
            raise PrinterUrlError("options", f"printer URL {url!r}: {key!r} given twice")
        query[key] = value

    profile = query.pop("profile", "default")
    try:
        get_profile(profile)
    except Exception:  # python-escpos raises its own, undocumented, errors here
        raise PrinterUrlError(
            "profile", f"printer URL {url!r}: unknown printer profile {profile!r}"
        ) from None
    paper = query.pop("paper", "80")
    if paper not in ("58", "80"):
        raise PrinterUrlError(
            "paper", f"printer URL {url!r}: paper must be 58 or 80, not {paper!r}"
        )
    impl = query.pop("impl", "raster")
    if impl not in IMPLS:
        raise PrinterUrlError(
            "impl", f"printer URL {url!r}: impl must be one of {', '.join(IMPLS)}"
        )
    qr = query.pop("qr", "auto")
    if qr not in QR_MODES:
        raise PrinterUrlError("qr", f"printer URL {url!r}: qr must be one of {', '.join(QR_MODES)}")
    check = query.pop("status", "on")
    if check not in ("on", "off"):
        raise PrinterUrlError("status", f"printer URL {url!r}: status must be on or off")

    target, port = _target(url, scheme, parts)
    options = _options(url, scheme, query)
    return PrinterConfig(
        url=url,
        scheme=scheme,
        target=target,
        port=port,
        profile=profile,
        paper_mm=int(paper),
        impl=impl,
        native_qr=QR_MODES[qr],
        check_status=check == "on",
        options=options,
    )


def printer_url(
    scheme: str,
    address: str,
    *,
    profile: str = "default",
    paper: str = "80",
    impl: str = "raster",
    qr: str = "auto",
    status: str = "on",
    options: str = "",
) -> str:
    """The URL of a printer described field by field (as the admin page asks for it);
    `parse_printer_url` then checks it, so the form and the command line share one rule."""
    address = address.strip()
    if scheme in ("serial", "file") and not address.startswith("/"):
        address = "/" + address if address else ""
    where = quote(address, safe="/:.") if scheme == "cups" else quote(address, safe="/:.[]")
    query = [("profile", profile), ("paper", paper), ("impl", impl), ("qr", qr), ("status", status)]
    extra = [
        tuple(pair.split("=", 1)) for pair in options.replace(",", "&").split("&") if "=" in pair
    ]
    return f"{scheme}://{where}?" + urlencode(query + [(k.strip(), v.strip()) for k, v in extra])


def describe(config: PrinterConfig) -> dict[str, str]:
    """The fields of a parsed printer URL, as `printer_url` takes them back."""
    address = config.target
    if config.scheme == "tcp":
        address = config.target if config.port in (None, 9100) else f"{config.target}:{config.port}"
    return {
        "scheme": config.scheme,
        "address": address,
        "profile": config.profile,
        "paper": str(config.paper_mm),
        "impl": config.impl,
        "qr": {None: "auto", True: "native", False: "image"}[config.native_qr],
        "status": "on" if config.check_status else "off",
        "options": "&".join(f"{k}={v}" for k, v in config.options.items()),
    }


def _target(url: str, scheme: str, parts: Any) -> tuple[str, int | None]:
    if scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port or 9100
        except ValueError:
            raise PrinterUrlError("address", f"printer URL {url!r}: bad port") from None
        if not host:
            raise PrinterUrlError(
                "address", f"printer URL {url!r}: no host, e.g. tcp://10.0.0.5:9100"
            )
        return host, port
    if scheme == "usb":
        ids = parts.netloc.split(":")
        try:
            vid, pid = (int(x, 16) for x in ids)
        except ValueError:
            raise PrinterUrlError(
                "address",
                f"printer URL {url!r}: expected usb://VID:PID in hex, e.g. usb://04b8:0e15",
            ) from None
        return f"{vid:04x}:{pid:04x}", None
    if scheme == "cups":
        queue = unquote(parts.netloc or parts.path.lstrip("/"))
        if not queue:
            raise PrinterUrlError(
                "address", f"printer URL {url!r}: no CUPS queue, e.g. cups://Kiosk_Printer"
            )
        return queue, None
    path = unquote(parts.path)  # serial and file: an absolute path, with an empty host
    if parts.netloc or not path.startswith("/"):
        raise PrinterUrlError("address", f"printer URL {url!r}: expected {scheme}:///absolute/path")
    return path, None


def _options(url: str, scheme: str, query: dict[str, str]) -> dict[str, Any]:
    allowed = _OPTIONS[scheme]
    options: dict[str, Any] = {}
    for key, value in query.items():
        kind = allowed.get(key)
        if kind is None:
            known = ", ".join(["profile", "paper", "impl", "qr", "status", *allowed])
            raise PrinterUrlError(
                "options", f"printer URL {url!r}: unknown parameter {key!r} (known: {known})"
            )
        try:
            if kind is bool:
                options[key] = {"1": True, "true": True, "0": False, "false": False}[value]
            else:
                options[key] = int(value, 0) if kind is int else value
        except (KeyError, ValueError):
            raise PrinterUrlError(
                "options", f"printer URL {url!r}: bad value for {key!r}: {value!r}"
            ) from None
    return options


class AppendingFile(File):
    """python-escpos's File truncates on open; tickets written to a file are appended."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        try:
            self.device = open(self.devfile, "ab")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            self.device = None
            if raise_not_found:
                raise DeviceNotFoundError(f"Could not open {self.devfile}: {exc}") from exc


def require_extra(config: PrinterConfig) -> None:
    """Raise BackendError, naming the extra to install, if the connection's library is missing."""
    if config.scheme in _EXTRAS:
        cls, extra = _EXTRAS[config.scheme]
        if not cls.is_usable():
            raise BackendError(
                f"{config.scheme}:// printers need the '{extra}' extra: "
                f"pip install 'seira[{extra}]'"
            )


def open_connection(config: PrinterConfig, timeout: float) -> Escpos:
    """A python-escpos connection to the printer, opened; blocking calls end after `timeout`.

    USB, serial and CUPS need python-escpos's extra of the same name (pyusb, pyserial,
    pycups): without it, BackendError says which to install.
    """
    require_extra(config)
    opts = config.options
    conn: Escpos
    if config.scheme == "tcp":
        conn = Network(config.target, port=config.port or 9100, timeout=timeout)
    elif config.scheme == "usb":
        vid, pid = (int(x, 16) for x in config.target.split(":"))
        usb_args = {"interface": opts["interface"]} if "interface" in opts else {}
        eps = {k: opts[k] for k in ("in_ep", "out_ep") if k in opts}
        conn = Usb(vid, pid, usb_args=usb_args, timeout=int(timeout * 1000), **eps)
    elif config.scheme == "serial":
        conn = Serial(config.target, timeout=timeout, **opts)
    elif config.scheme == "cups":
        conn = CupsPrinter(config.target, **opts)
    else:
        conn = AppendingFile(config.target)
    try:
        conn.open()
    except (OSError, DeviceNotFoundError) as exc:
        raise BackendError(f"cannot open {config.url}: {exc}") from exc
    return conn


def _supports_status(config: PrinterConfig) -> bool:
    return config.scheme in ("tcp", "usb", "serial", "cups")


def read_status(conn: Escpos, config: PrinterConfig, timeout: float | None = None) -> PrinterStatus:
    """Ask an open connection for online and paper status (DLE EOT 1 and DLE EOT 4),
    waiting at most `timeout` for each answer (the connection's own timeout when None).

    DLE EOT is a real-time command: the printer answers it as soon as it reads it, even
    in the middle of a job, so asked right after a job it also tells that the printer has
    read the job's bytes. A printer that does not answer in time gives None values: many
    printers answer late, never, or always "offline", so the result is only a hint.
    """
    if not _supports_status(config):
        return PrinterStatus(None, None)
    if config.scheme == "cups":  # the queue's state: sending DLE EOT would add it to a job
        state = conn.printers.get(conn.printer_name, {}).get("printer-state")  # type: ignore[attr-defined]
        return PrinterStatus(None if state is None else state in (3, 4), None)
    online = _query(conn, config, RT_STATUS_ONLINE, timeout)
    if online is None:  # no answer: asking again would only wait for another timeout
        return PrinterStatus(None, None)
    paper = _query(conn, config, RT_STATUS_PAPER, timeout)
    return PrinterStatus(not online & _OFFLINE, None if paper is None else _paper(paper))


def _query(
    conn: Escpos, config: PrinterConfig, command: bytes, timeout: float | None
) -> int | None:
    """The status byte the printer answers to `command`, or None without a proper answer."""
    device: Any = conn.device
    before = _read_timeout(device, config.scheme)
    if timeout is not None:
        _set_read_timeout(device, config.scheme, timeout)
    try:
        answer = conn.query_status(command)
    except OSError:  # a timeout is an OSError (pyusb's too); file backends never get here
        return None
    finally:
        if timeout is not None:
            _set_read_timeout(device, config.scheme, before)
    if not answer or answer[-1] & _FIXED_MASK != _FIXED_BITS:
        return None  # nothing, or bytes that are not a status (a late answer is the last)
    return answer[-1]


def _read_timeout(device: Any, scheme: str) -> Any:
    if scheme == "tcp":
        return device.gettimeout()
    if scheme == "serial":
        return device.timeout
    return device.default_timeout  # pyusb, in milliseconds


def _set_read_timeout(device: Any, scheme: str, value: Any) -> None:
    if scheme == "tcp":
        device.settimeout(value)
    elif scheme == "serial":
        device.timeout = value
    else:
        device.default_timeout = value if isinstance(value, int) else int(value * 1000)


def _paper(byte: int) -> str:
    if byte & _PAPER_END == _PAPER_END:
        return "out"
    if byte & _PAPER_NEAR_END == _PAPER_NEAR_END:
        return "low"
    return "ok"


def status(config: PrinterConfig, timeout: float = 2.0) -> PrinterStatus:
    """The printer's status, or (None, None) where the connection cannot tell."""
    if not _supports_status(config):
        return PrinterStatus(None, None)
    require_extra(config)  # a missing library is a configuration error, not a status
    try:
        conn = open_connection(config, timeout)
    except BackendError:
        return PrinterStatus(False, None)
    try:
        return read_status(conn, config)
    finally:
        conn.close()
