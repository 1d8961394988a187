"""Ticket pictures: every script shaped, right-to-left where it should be, no missing glyphs,
and the same pixels as the reviewed golden images in tests/golden/.

SEIRA_UPDATE_GOLDEN=1 rewrites the golden images instead of comparing: look at each one
before committing it (shaping, direction, no boxes).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from printers import text
from printers.samples import SOCIAL_SERVICE, STATUS_URL, sample_ticket
from printers.ticket import PrintedTicket, issued_local, labels, preview, render
from server import i18n

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SEIRA_UPDATE_GOLDEN") == "1"
GOLDEN_LANGS = ["el", "en", "ar", "fa", "ur", "ti"]
TOLERANCE = 0.001  # share of pixels allowed to differ (a FreeType or Pango patch release)
MSGIDS = [
    "Your number",
    "People ahead of you: %(n)s",
    "Please wait in the waiting room and watch the screen for your number.",
    "Scan the code to follow your turn on your phone.",
]


def differing_share(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    return 1 - diff.histogram()[0] / (a.width * a.height)


@pytest.mark.parametrize("paper", [80, 58])
@pytest.mark.parametrize("lang", GOLDEN_LANGS)
def test_ticket_matches_golden_image(lang: str, paper: int) -> None:
    image = preview(sample_ticket(lang), paper)
    path = GOLDEN / f"ticket_{lang}_{paper}.png"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        image.save(path, optimize=True)
    assert path.exists(), f"no golden image {path}: run with SEIRA_UPDATE_GOLDEN=1, then look"
    golden = Image.open(path)
    share = differing_share(image, golden)
    if share > TOLERANCE:
        image.save(path.with_suffix(".actual.png"))
    assert share <= TOLERANCE, f"{path.name}: {share:.2%} of pixels differ (see .actual.png)"


@pytest.mark.parametrize("lang", GOLDEN_LANGS)
def test_golden_ticket_qr_code_gives_the_status_url(lang: str) -> None:
    found = zxingcpp.read_barcodes(Image.open(GOLDEN / f"ticket_{lang}_80.png").convert("L"))
    assert [code.text for code in found] == [STATUS_URL]


@pytest.mark.parametrize(("paper", "dots"), [(80, 576), (58, 384)])
def test_image_is_one_bit_and_as_wide_as_the_paper(paper: int, dots: int) -> None:
    image = render(sample_ticket("ar"), paper)
    assert image.mode == "1"
    assert image.width == dots
    assert preview(sample_ticket("ar"), paper).width == dots


def test_unknown_paper_width_is_refused() -> None:
    with pytest.raises(ValueError, match="58 or 80"):
        render(sample_ticket("el"), 76)


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_every_line_of_every_language_has_all_its_glyphs(lang: str) -> None:
    ticket = sample_ticket(lang)
    rtl = i18n.language(lang).rtl
    lines = [*labels(ticket).values(), ticket.service, f"{labels(ticket)['your_number']} A023"]
    for line in lines:
        block = text.layout(line, text.Style(28), 544, lang, rtl)
        assert block.unknown_glyphs == 0, f"{lang}: missing glyphs in {line!r}"


@pytest.mark.parametrize(
    ("line", "lang"),
    [
        ("تذكرة A023", "ar"),
        ("نوبت A023", "fa"),
        ("ٹکٹ A023", "ur"),
        ("ቁጽሪ A023", "ti"),
        ("Талон A023", "uk"),
        ("Αριθμός A023", "el"),
        ("টিকিট A023", "bn"),
    ],
)
def test_mixed_script_lines_fall_back_per_character(line: str, lang: str) -> None:
    block = text.layout(line, text.Style(28), None, lang, i18n.language(lang).rtl)
    assert block.unknown_glyphs == 0


def test_right_to_left_lines_start_on_the_right() -> None:
    style = text.Style(28, align="start")
    ar = text.layout("عدد الأشخاص قبلك: 4", style, 544, "ar", True)
    en = text.layout("People ahead of you: 4", style, 544, "en", False)
    for block, side in ((ar, "right"), (en, "left")):
        ink = ImageChops.invert(text.draw([(block, 16, 0)], 576, block.height).convert("L"))
        left, _, right, _ = ink.getbbox()
        assert (right >= 576 - 16 - 4) if side == "right" else (left <= 16 + 4), side


def test_arabic_is_shaped_not_isolated_letters() -> None:
    # Joined Arabic is narrower than the same letters drawn apart (isolated forms).
    style = text.Style(28)
    joined = text.layout("الخدمة الاجتماعية", style, None, "ar", True)
    apart = text.layout(" ".join("الخدمة الاجتماعية".replace(" ", "")), style, None, "ar", True)
    assert joined.width < apart.width * 0.6


def test_number_is_about_a_quarter_of_the_width_tall() -> None:
    number = text.layout("A023", text.Style(200, bold=True), None, "en", False)
    assert 0.22 * 576 <= number.ink_height <= 0.3 * 576


def test_long_numbers_shrink_to_fit() -> None:
    ticket = sample_ticket("el", number="SOC-10023")
    assert render(ticket, 58).width == 384


def test_time_is_printed_in_athens_time() -> None:
    winter = sample_ticket("el")  # 11:05 UTC in November: UTC+2
    summer = PrintedTicket(
        **{**winter.__dict__, "issued_at": datetime(2026, 7, 1, 9, 30, tzinfo=UTC)}
    )
    assert issued_local(winter) == "23/11/2026 13:05"
    assert issued_local(summer) == "01/07/2026 12:30"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PrintedTicket(**{**sample_ticket("el").__dict__, "issued_at": datetime(2026, 1, 1)})


def test_wait_is_in_minutes_with_latin_digits_and_plurals() -> None:
    ticket = sample_ticket("ar")
    at = {
        s: labels(PrintedTicket(**{**ticket.__dict__, "estimated_wait_s": s}))["wait"]
        for s in (30, 120, 5 * 60, 14 * 60, 100 * 60)
    }
    assert at[30] == "الانتظار المتوقع: حوالي دقيقة واحدة"
    assert at[120] == "الانتظار المتوقع: حوالي دقيقتين"
    assert at[5 * 60] == "الانتظار المتوقع: حوالي 5 دقائق"
    assert at[14 * 60] == "الانتظار المتوقع: حوالي 14 دقيقة"
    assert at[100 * 60] == "الانتظار المتوقع: حوالي 100 دقيقة"
    assert labels(sample_ticket("fa"))["ahead"].endswith(": 4")  # not ۴


@pytest.mark.parametrize("lang", sorted(set(i18n.LANGUAGES) - {"en"}))
def test_every_language_translates_every_ticket_line(lang: str) -> None:
    tr = i18n.translations(lang, "printers")
    for msgid in MSGIDS:
        assert tr.gettext(msgid) != msgid, f"{lang}: {msgid!r} untranslated"
    for n in (1, 2, 3, 11, 21, 100):
        wait = tr.ngettext(
            "Estimated wait: about %(min)s minute", "Estimated wait: about %(min)s minutes", n
        )
        assert not wait.startswith("Estimated"), f"{lang}: plural form for {n} missing"
    assert lang in SOCIAL_SERVICE
