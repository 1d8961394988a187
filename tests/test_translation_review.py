"""A language's strings go out to interpreters as CSV or XLSX and come back reviewed;
locales/STATUS.md says where each language stands."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import translation_review as review
from server import translations
from server.cli import main


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the catalogs to write to: the repository's stay as they are."""
    copy = tmp_path / "locales"
    shutil.copytree(translations.LOCALES_DIR, copy)
    monkeypatch.setattr(translations, "LOCALES_DIR", copy)
    monkeypatch.setattr(review, "STATUS_PATH", copy / "STATUS.md")
    return copy


def test_status_is_current() -> None:
    assert review.STATUS_PATH.read_text(encoding="utf-8") == review.status()
    assert "| Tigrinya (`ti`) |" in review.status()


def test_a_language_goes_out_and_comes_back_reviewed(locales: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(review.export("ti", "csv").decode("utf-8"))))
    domains = {row["domain"] for row in rows}
    assert {"visitors", "printers", "display"} <= domains
    wait = next(r for r in rows if r["english"] == "Please wait…")
    assert wait["translation"] and "kiosk" in wait["used_in"]
    wait["translation"] = "ብኽብረትኩም ተጸበዩ (reviewed)"
    back = review.read_rows(_xlsx(rows), "xlsx")  # as an interpreter's spreadsheet
    assert (
        review.import_reviewed("ti", back, reviewer="Interpreter A", today=date(2026, 12, 2)) == 1
    )
    catalog = translations.read("visitors", "ti")
    assert catalog is not None and catalog.get("Please wait…").string.endswith("(reviewed)")
    assert translations.review_of(catalog) == "2026-12-02 by Interpreter A"
    assert "2026-12-02 by Interpreter A" in review.status()


def test_a_reviewed_file_that_breaks_a_placeholder_changes_nothing(locales: Path) -> None:
    rows = review.rows_of("ar")
    call = next(r for r in rows if r["english"] == "Ticket %(number)s, counter %(counter)s")
    call["translation"] = "التذكرة، الشباك"  # both placeholders dropped
    before = translations.po_path("display", "ar").read_bytes()
    with pytest.raises(review.ReviewError, match="placeholders"):
        review.import_reviewed("ar", rows)
    assert translations.po_path("display", "ar").read_bytes() == before


def test_an_unknown_message_or_language_is_refused(locales: Path) -> None:
    row = {c: "" for c in review.COLUMNS} | {"domain": "visitors", "english": "Not a message"}
    with pytest.raises(review.ReviewError, match="not a message"):
        review.import_reviewed("fr", [row])
    with pytest.raises(review.ReviewError):
        review.rows_of("xx")


def test_the_commands(locales: Path, tmp_path: Path) -> None:
    out = tmp_path / "uk.xlsx"
    runner = CliRunner()
    exported = runner.invoke(main, ["i18n", "export", "uk", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    imported = runner.invoke(main, ["i18n", "import", "uk", str(out), "--reviewer", "B"])
    assert imported.exit_code == 0, imported.output
    assert "0 translations changed in uk" in imported.output
    assert translations.review_of(translations.read("visitors", "uk")).endswith("by B")


def _xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(review.COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in review.COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_languages_page_exports_and_admins_take_reviews_back(
    app,
    db,
    locales: Path,  # type: ignore[no-untyped-def]
) -> None:
    from server import auth
    from tests.test_counter_pages import csrf_of, signed_in

    staff, _ = signed_in(app, "eleni")
    page = staff.get("/languages/").get_data(as_text=True)
    assert 'data-lang="ti"' in page and "Take back" not in page  # staff: no import form
    exported = staff.get("/languages/ti/strings.xlsx")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    rows = review.read_rows(exported.data, "xlsx")
    row = next(r for r in rows if r["english"] == "Done")
    row["translation"] = "ተወዲኡ (reviewed)"
    upload = {"file": (io.BytesIO(_xlsx(rows)), "ti.xlsx"), "reviewer": "C"}
    csrf = csrf_of(staff.get("/languages/").get_data(as_text=True))
    refused = staff.post("/languages/ti/strings", data={**upload, "csrf_token": csrf})
    assert refused.status_code == 403

    auth.add_user(db, "anna", "correct-horse", "admin", "thess-east")
    admin, _ = signed_in(app, "anna")
    csrf = csrf_of(admin.get("/languages/").get_data(as_text=True))
    upload = {"file": (io.BytesIO(_xlsx(rows)), "ti.xlsx"), "reviewer": "C"}
    taken = admin.post("/languages/ti/strings", data={**upload, "csrf_token": csrf})
    assert taken.status_code == 302
    catalog = translations.read("visitors", "ti")
    assert catalog.get("Done").string == "ተወዲኡ (reviewed)"
    assert translations.review_of(catalog).endswith("by C")
