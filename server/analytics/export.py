"""A report as JSON-ready data, CSV or XLSX: the same tables, labels in the reader's language.

Hidden cells arrive here already as `privacy.HIDDEN`, and withheld tables without rows
but with their note; nothing below can undo the protection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from ..i18n import N_
from .privacy import HIDDEN
from .schema import Report, Table

Translate = Callable[[str], str]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_data(report: Report, tr: Translate) -> dict[str, Any]:
    """The API's JSON body (dates stay dates: the app's JSON provider writes them)."""
    return {
        "kind": report.kind,
        "sites": list(report.sites),
        "from": report.first,
        "to": report.last,
        "timezone": report.timezone,
        "small_count_threshold": report.small_count,
        "parameters": report.parameters,
        "tables": [
            {
                "name": t.name,
                "title": tr(t.title),
                "columns": [
                    {"key": c.key, "label": tr(c.label), "type": c.type} for c in t.columns
                ],
                "rows": t.rows,
                "withheld": t.note is not None,
                "note": tr(t.note) if t.note else None,
            }
            for t in report.tables
        ],
    }


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: text that a spreadsheet would run as a formula gets a quote."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def filename(report: Report, extension: str) -> str:
    sites = "all" if len(report.sites) > 1 else report.sites[0]
    return f"seira-{report.kind}-{sites}-{report.first}-{report.last}.{extension}"


LEGEND = N_(
    "%(x)s: hidden, a count from 1 to %(below)s or a figure hidden with one so that it "
    "cannot be worked out from the totals"
)


def legend(report: Report, tr: Translate) -> str:
    return tr(LEGEND) % {"x": HIDDEN, "below": report.small_count - 1}


def _heading(report: Report, tr: Translate) -> list[list[Any]]:
    return [
        [tr("Centres"), ", ".join(report.sites)],
        [tr("From"), report.first.isoformat(), tr("To"), report.last.isoformat()],
        [legend(report, tr)],
    ]


def to_csv(report: Report, tr: Translate) -> str:
    """Every table one after the other: its title, its header, its rows, a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_heading(report, tr))
    for table in report.tables:
        writer.writerow([])
        writer.writerow([tr(table.title)])
        if table.note:
            writer.writerow([tr(table.note)])
        writer.writerow([tr(c.label) for c in table.columns])
        for row in table.rows:
            writer.writerow(
                ["" if row[c.key] is None else _cell(row[c.key]) for c in table.columns]
            )
    return "\ufeff" + out.getvalue()  # the BOM makes spreadsheets read UTF-8 (Greek)


def _sheet_title(table: Table, taken: set[str]) -> str:
    title = "".join(ch for ch in table.name if ch not in "[]:*?/\\")[:31] or "table"
    while title in taken:
        title = title[:28] + str(len(taken))
    taken.add(title)
    return title


def to_xlsx(report: Report, tr: Translate) -> bytes:
    """One sheet about the report, then one sheet per table with a bold header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    about = book.create_sheet("about")
    for line in _heading(report, tr):
        about.append(line)
    bold = Font(bold=True)
    taken: set[str] = {"about"}
    for table in report.tables:
        sheet = book.create_sheet(_sheet_title(table, taken))
        sheet.append([tr(table.title)])
        if table.note:
            sheet.append([tr(table.note)])
        header = []
        for c in table.columns:
            cell = WriteOnlyCell(sheet, value=tr(c.label))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_cell(row[c.key]) for c in table.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_file(report: Report, fmt: str, tr: Translate) -> tuple[bytes, str, str]:
    """A download of the report: its bytes, media type and file name (`csv` or `xlsx`)."""
    if fmt == "csv":
        return to_csv(report, tr).encode(), "text/csv; charset=utf-8", filename(report, fmt)
    return to_xlsx(report, tr), XLSX_TYPE, filename(report, fmt)
