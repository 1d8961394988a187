"""Small charts drawn on the server as SVG: no script, no external service, print-ready.

Each chart carries a <title> and <desc> for screen readers and writes its numbers as text
beside the marks, so nothing is conveyed by colour alone. Masked counts ("<5") get no
bar, only their label.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

INK, ACCENT, SECOND, GRID = "#111", "#0b4f9c", "#b35900", "#c8c8c8"
FONT = 'font-family="Seira Sans, sans-serif" font-size="12"'  # the pages' served fonts


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _frame(width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart" {FONT}>'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _fmt(value: Any) -> str:
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    return f"{number:,.0f}" if number >= 100 or number.is_integer() else f"{number:.2f}"


def bars(title: str, desc: str, items: Sequence[tuple[str, Any]], label_width: int = 240) -> Markup:
    """Horizontal bars, one per (label, value), largest scale first-come."""
    row, width = 24, 720
    values = [_number(v) or 0.0 for _, v in items]
    top = max(values, default=0.0) or 1.0
    span = width - label_width - 70
    body = []
    for i, ((label, value), number) in enumerate(zip(items, values, strict=True)):
        y = 8 + i * row
        text = label if len(label) <= 34 else label[:33] + "…"
        body.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{escape(text)}</text>"
        )
        length = span * number / top
        if length > 0:
            body.append(
                f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                f'fill="{ACCENT}"/>'
            )
        body.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}" fill="{INK}">'
            f"{escape(_fmt(value))}</text>"
        )
    return _frame(width, 16 + row * max(len(items), 1), title, desc, body)


def lines(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    every: int = 1,
) -> Markup:
    """Up to two series over the same x labels; the second is dashed (not colour alone)."""
    width, height, left, bottom, top_pad = 760, 280, 48, 56, 28
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    numbers = [_number(v) for _, vs in series for v in vs]
    top = max((n for n in numbers if n is not None), default=0.0) or 1.0
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    body = []
    for k in range(5):  # grid and scale
        value = top * k / 4
        y = top_pad + plot_h - plot_h * k / 4
        body.append(f'<line x1="{left}" x2="{width - 16}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')  # fmt: skip
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                    f"{escape(_fmt(round(value, 1)))}</text>")  # fmt: skip
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + i * step
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="end" '
                f'transform="rotate(-45 {x:.1f} {height - bottom + 16})">{escape(label)}</text>'
            )
    for s, (name, values) in enumerate(series[:2]):
        colour, dash = (ACCENT, "") if s == 0 else (SECOND, ' stroke-dasharray="6 4"')
        points = [
            f"{left + i * step:.1f},{top_pad + plot_h - plot_h * (_number(v) or 0) / top:.1f}"
            for i, v in enumerate(values)
        ]
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5"{dash}/>')  # fmt: skip
        lx = left + 10 + s * 220
        body.append(f'<line x1="{lx}" x2="{lx + 28}" y1="12" y2="12" stroke="{colour}" '
                    f'stroke-width="2.5"{dash}/>')  # fmt: skip
        body.append(f'<text x="{lx + 34}" y="16">{escape(name)}</text>')
    return _frame(width, height, title, desc, body)


def heatmap(
    title: str,
    desc: str,
    row_labels: Sequence[str],
    hours: Sequence[int],
    cells: dict[tuple[int, int], Any],
) -> Markup:
    """Rows (weekdays) × hours; darker is more, and every cell shows its number."""
    cell_w, cell_h, left, top_pad = 52, 34, 110, 26
    width = left + cell_w * max(len(hours), 1) + 10
    height = top_pad + cell_h * len(row_labels) + 10
    top = max((_number(v) or 0 for v in cells.values()), default=0) or 1
    body = [
        f'<text x="{left + i * cell_w + cell_w / 2}" y="{top_pad - 8}" text-anchor="middle">'
        f"{h:02d}:00</text>"
        for i, h in enumerate(hours)
    ]
    for r, label in enumerate(row_labels):
        y = top_pad + r * cell_h
        body.append(f'<text x="{left - 8}" y="{y + cell_h / 2 + 4}" text-anchor="end">'
                    f"{escape(label)}</text>")  # fmt: skip
        for i, h in enumerate(hours):
            value = cells.get((r, h), 0)
            share = (_number(value) or 0) / top
            fill = f"rgba(11,79,156,{0.06 + 0.94 * share:.2f})"
            ink = "#fff" if share > 0.55 else INK
            x = left + i * cell_w
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}"/>'
                f'<text x="{x + cell_w / 2 - 1}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                f'fill="{ink}">{escape(_fmt(value))}</text>'
            )
    return _frame(width, height, title, desc, body)
