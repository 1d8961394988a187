"""Turning a ticket into printer bytes and sending them to thermal printers.

The server's calls, all on plain data (no Flask, no database):

    config = parse_printer_url("tcp://10.0.0.5:9100?profile=TM-T20II&paper=80")
    queue = PrintQueue(on_result=lambda job, result: ...)   # one per process
    queue.submit(ticket_job(ticket_id, PrintedTicket(...), config))

`preview` gives the ticket as an image (for a screen or a test), `print_now` prints
synchronously (the CLI), `status` asks a printer whether it is online and has paper.
"""

from printers.backends import (
    PrinterConfig,
    PrinterStatus,
    PrinterUrlError,
    describe,
    parse_printer_url,
    printer_url,
    status,
)
from printers.escpos_bytes import encode, ticket_bytes
from printers.jobs import (
    Outcome,
    PrintJob,
    PrintQueue,
    PrintResult,
    Reason,
    print_now,
    ticket_job,
)
from printers.ticket import PrintedTicket, preview, render

__all__ = [
    "Outcome",
    "PrintJob",
    "PrintQueue",
    "PrintResult",
    "PrintedTicket",
    "PrinterConfig",
    "PrinterStatus",
    "encode",
    "parse_printer_url",
    "printer_url",
    "describe",
    "PrinterUrlError",
    "Reason",
    "preview",
    "print_now",
    "render",
    "status",
    "ticket_bytes",
    "ticket_job",
]
