"""Time to turn a ticket into printer bytes, per language: render (Pango, 1-bit image) and
encode (python-escpos), medians over N runs after one warm-up. Target: under 50 ms.

    python bench/ticket_render.py [--runs 30] [--paper 80] [--profile TM-T20II]

The profile decides the QR code: TM-T20II prints it natively, TH230 gets it as an image
(about 20 KB more to encode and send).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from printers.escpos_bytes import encode, profile_dots, supports_native_qr
from printers.samples import sample_ticket
from printers.ticket import paper_dots, render
from server.i18n import LANGUAGES


def measure(lang: str, runs: int, paper: int, profile: str) -> tuple[float, float, int]:
    """Median render and encode times in ms, and the bytes of one ticket."""
    ticket = sample_ticket(lang)
    dots = min(paper_dots(paper), profile_dots(profile) or paper_dots(paper))
    encode(render(ticket, paper, dots=dots), ticket.status_url, profile)  # warm-up
    render_ms, encode_ms = [], []
    for _ in range(runs):
        start = time.perf_counter()
        image = render(ticket, paper, dots=dots)
        middle = time.perf_counter()
        data = encode(image, ticket.status_url, profile)
        end = time.perf_counter()
        render_ms.append((middle - start) * 1000)
        encode_ms.append((end - middle) * 1000)
    return statistics.median(render_ms), statistics.median(encode_ms), len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--paper", type=int, default=80, choices=(58, 80))
    parser.add_argument("--profile", default="TM-T20II")
    args = parser.parse_args()
    qr = "native" if supports_native_qr(args.profile) else "image"
    print(
        f"{platform.node()} · Python {platform.python_version()} · {args.paper} mm · "
        f"profile {args.profile} ({qr} QR) · median of {args.runs} runs"
    )
    print(f"{'lang':<6} {'render ms':>10} {'encode ms':>10} {'total ms':>9} {'bytes':>7}")
    totals = []
    for lang in LANGUAGES:
        render_ms, encode_ms, size = measure(lang, args.runs, args.paper, args.profile)
        totals.append(render_ms + encode_ms)
        print(
            f"{lang:<6} {render_ms:>10.1f} {encode_ms:>10.1f} "
            f"{render_ms + encode_ms:>9.1f} {size:>7}"
        )
    print(
        f"slowest language: {max(totals):.1f} ms; median over languages: "
        f"{statistics.median(totals):.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
