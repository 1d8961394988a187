"""Laying out lines of any script with Pango, using only the fonts shipped in `printers/fonts`.

Pango does the whole job in one place: it splits a line into script runs, orders them with
the Unicode bidirectional algorithm, picks a font per character from a fallback list and
shapes each run with HarfBuzz. So "تذكرة A023" takes its Arabic letters from the Arabic font
and "A023" from Noto Sans, in the right order, with no missing-glyph boxes.

The font map is given a private fontconfig configuration that holds only the vendored files:
the system's fonts and settings are never consulted, so a ticket looks the same on every
machine and a fresh machine needs no font installed. The C libraries (Pango, PangoCairo,
PangoFT2, fontconfig, cairo) come with the operating system; they are reached through cffi
in ABI mode, so nothing is compiled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cffi import FFI
from PIL import Image

FONTS_DIR = Path(__file__).resolve().parent / "fonts"

# Fallback order: Pango takes each character from the first family that has it. Noto Sans
# comes first so Latin letters and digits look the same in every language; then the family
# that suits the language; then all the others, so any script still finds its glyphs.
_LATIN = "Noto Sans"
_SCRIPT_FAMILY = {
    "ar": "Noto Sans Arabic",
    "fa": "Noto Sans Arabic",
    "ps": "Noto Sans Arabic",
    "ckb": "Noto Sans Arabic",
    "ur": "Noto Nastaliq Urdu",  # Urdu readers expect Nastaliq, not Naskh
    "ti": "Noto Sans Ethiopic",
    "bn": "Noto Sans Bengali",
}
_ALL_FAMILIES = (
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Nastaliq Urdu",
    "Noto Sans Ethiopic",
    "Noto Sans Bengali",
)

_CDEF = """
typedef struct _FcConfig FcConfig;
FcConfig *FcConfigCreate(void);
int FcConfigAppFontAddFile(FcConfig *config, const unsigned char *file);

typedef struct _PangoFontMap PangoFontMap;
typedef struct _PangoContext PangoContext;
typedef struct _PangoLayout PangoLayout;
typedef struct _PangoFontDescription PangoFontDescription;
typedef struct _PangoLanguage PangoLanguage;
typedef struct { int x; int y; int width; int height; } PangoRectangle;
typedef struct _cairo cairo_t;
typedef struct _cairo_surface cairo_surface_t;
typedef struct _cairo_font_options cairo_font_options_t;

PangoFontMap *pango_cairo_font_map_new(void);
void pango_fc_font_map_set_config(PangoFontMap *fontmap, FcConfig *config);
PangoContext *pango_font_map_create_context(PangoFontMap *fontmap);
void pango_cairo_context_set_font_options(PangoContext *ctx, const cairo_font_options_t *o);
void pango_cairo_context_set_resolution(PangoContext *ctx, double dpi);
void pango_context_set_language(PangoContext *ctx, PangoLanguage *language);
void pango_context_set_base_dir(PangoContext *ctx, int direction);
PangoLanguage *pango_language_from_string(const char *language);

PangoLayout *pango_layout_new(PangoContext *ctx);
void pango_layout_set_text(PangoLayout *layout, const char *text, int length);
void pango_layout_set_font_description(PangoLayout *layout, const PangoFontDescription *d);
void pango_layout_set_width(PangoLayout *layout, int width);
void pango_layout_set_wrap(PangoLayout *layout, int wrap);
void pango_layout_set_alignment(PangoLayout *layout, int alignment);
void pango_layout_set_auto_dir(PangoLayout *layout, int auto_dir);
void pango_layout_get_pixel_extents(PangoLayout *layout, PangoRectangle *ink,
                                    PangoRectangle *logical);
int pango_layout_get_unknown_glyphs_count(PangoLayout *layout);

PangoFontDescription *pango_font_description_new(void);
void pango_font_description_set_family(PangoFontDescription *d, const char *family);
void pango_font_description_set_weight(PangoFontDescription *d, int weight);
void pango_font_description_set_absolute_size(PangoFontDescription *d, double size);
void pango_font_description_free(PangoFontDescription *d);
void g_object_unref(void *object);

cairo_font_options_t *cairo_font_options_create(void);
void cairo_font_options_set_antialias(cairo_font_options_t *o, int antialias);
void cairo_font_options_set_hint_style(cairo_font_options_t *o, int hint_style);
void cairo_font_options_set_hint_metrics(cairo_font_options_t *o, int hint_metrics);
cairo_surface_t *cairo_image_surface_create(int format, int width, int height);
unsigned char *cairo_image_surface_get_data(cairo_surface_t *surface);
int cairo_image_surface_get_stride(cairo_surface_t *surface);
void cairo_surface_flush(cairo_surface_t *surface);
void cairo_surface_destroy(cairo_surface_t *surface);
cairo_t *cairo_create(cairo_surface_t *target);
void cairo_move_to(cairo_t *cr, double x, double y);
void cairo_destroy(cairo_t *cr);
void pango_cairo_show_layout(cairo_t *cr, PangoLayout *layout);
"""

# Constants from the C headers.
_PANGO_SCALE = 1024
_WRAP_WORD_CHAR = 2
_ALIGN = {"left": 0, "center": 1, "right": 2}
_DIR_LTR, _DIR_RTL = 0, 1
_WEIGHT = {"regular": 400, "bold": 700}
_CAIRO_FORMAT_A8 = 2
_ANTIALIAS_GRAY, _HINT_STYLE_NONE, _HINT_METRICS_OFF = 2, 1, 1


class TextError(RuntimeError):
    """The system's Pango or fontconfig library could not be loaded or used."""


@dataclass(frozen=True)
class Style:
    """How a block of text looks: pixel size (em), weight and alignment on the line."""

    size: float
    bold: bool = False
    align: str = "start"  # "start" (left, or right in a right-to-left language), "center"


class _Pango:
    """The loaded libraries, one font map over the vendored fonts, one context per language."""

    def __init__(self) -> None:
        self.ffi = FFI()
        self.ffi.cdef(_CDEF)
        try:
            self.fc = self.ffi.dlopen("libfontconfig.so.1")
            self.pango = self.ffi.dlopen("libpango-1.0.so.0")
            self.pangoft2 = self.ffi.dlopen("libpangoft2-1.0.so.0")
            self.pangocairo = self.ffi.dlopen("libpangocairo-1.0.so.0")
            self.cairo = self.ffi.dlopen("libcairo.so.2")
            self.gobject = self.ffi.dlopen("libgobject-2.0.so.0")
        except OSError as exc:  # pragma: no cover - depends on the machine
            raise TextError(
                f"ticket rendering needs Pango, cairo and fontconfig ({exc}); "
                "on Debian: apt-get install libpangocairo-1.0-0"
            ) from exc
        config = self.fc.FcConfigCreate()
        fonts = sorted(FONTS_DIR.glob("*.ttf"))
        if not fonts:
            raise TextError(f"no fonts in {FONTS_DIR}")
        for font in fonts:
            if not self.fc.FcConfigAppFontAddFile(config, str(font).encode()):
                raise TextError(f"fontconfig could not load {font}")
        self.fontmap = self.pangocairo.pango_cairo_font_map_new()
        self.pangoft2.pango_fc_font_map_set_config(self.fontmap, config)
        options = self.cairo.cairo_font_options_create()
        # Grey antialiasing thresholded later, no hinting: the same shapes at every size.
        self.cairo.cairo_font_options_set_antialias(options, _ANTIALIAS_GRAY)
        self.cairo.cairo_font_options_set_hint_style(options, _HINT_STYLE_NONE)
        self.cairo.cairo_font_options_set_hint_metrics(options, _HINT_METRICS_OFF)
        self.font_options = options  # kept for the life of the process, like the contexts
        self.contexts: dict[tuple[str, bool], Any] = {}
        # A Pango font map is not safe across threads. Re-entrant: a layout may be freed by
        # the garbage collector while this thread holds the lock.
        self.lock = threading.RLock()

    def context(self, lang: str, rtl: bool) -> Any:
        key = (lang, rtl)
        ctx = self.contexts.get(key)
        if ctx is None:
            ctx = self.pango.pango_font_map_create_context(self.fontmap)
            self.pangocairo.pango_cairo_context_set_font_options(ctx, self.font_options)
            self.pangocairo.pango_cairo_context_set_resolution(ctx, 72.0)
            tag = lang.replace("_", "-").encode()
            self.pango.pango_context_set_language(ctx, self.pango.pango_language_from_string(tag))
            self.pango.pango_context_set_base_dir(ctx, _DIR_RTL if rtl else _DIR_LTR)
            self.contexts[key] = ctx
        return ctx


@cache
def _pango() -> _Pango:
    return _Pango()


def families(lang: str) -> str:
    """The comma-separated fallback list Pango gets for a language."""
    base = lang.split("_")[0]
    first = [_LATIN, _SCRIPT_FAMILY[base]] if base in _SCRIPT_FAMILY else [_LATIN]
    return ",".join(first + [f for f in _ALL_FAMILIES if f not in first])


@dataclass
class Block:
    """One laid-out paragraph: its size is known before anything is drawn.

    `height` and `width` are the logical (line) box; `ink_top` and `ink_height` the box the
    glyphs really cover, used to place very large text tightly.
    """

    layout: Any
    width: int
    height: int
    ink_top: int
    ink_height: int
    unknown_glyphs: int

    def __del__(self) -> None:
        p = _pango()
        with p.lock:
            p.gobject.g_object_unref(self.layout)


def layout(text: str, style: Style, width: int | None, lang: str, rtl: bool) -> Block:
    """Lay out `text` wrapped to `width` pixels (None: one line) in the direction of `lang`."""
    p = _pango()
    with p.lock:
        lay = p.pango.pango_layout_new(p.context(lang, rtl))
        desc = p.pango.pango_font_description_new()
        p.pango.pango_font_description_set_family(desc, families(lang).encode())
        p.pango.pango_font_description_set_weight(
            desc, _WEIGHT["bold" if style.bold else "regular"]
        )
        p.pango.pango_font_description_set_absolute_size(desc, style.size * _PANGO_SCALE)
        p.pango.pango_layout_set_font_description(lay, desc)
        p.pango.pango_font_description_free(desc)
        p.pango.pango_layout_set_auto_dir(lay, 0)  # the language decides, not the first letter
        p.pango.pango_layout_set_width(lay, -1 if width is None else width * _PANGO_SCALE)
        p.pango.pango_layout_set_wrap(lay, _WRAP_WORD_CHAR)
        # Pango mirrors "left" only when it guesses the direction, so the start is chosen here.
        align = "center" if style.align == "center" else ("right" if rtl else "left")
        p.pango.pango_layout_set_alignment(lay, _ALIGN[align])
        data = text.encode()
        p.pango.pango_layout_set_text(lay, data, len(data))
        ink = p.ffi.new("PangoRectangle *")
        logical = p.ffi.new("PangoRectangle *")
        p.pango.pango_layout_get_pixel_extents(lay, ink, logical)
        unknown = p.pango.pango_layout_get_unknown_glyphs_count(lay)
    return Block(lay, logical.width, logical.height, ink.y, ink.height, unknown)


def draw(blocks: list[tuple[Block, int, int]], width: int, height: int) -> Image.Image:
    """Draw blocks at (x, y) offsets onto a white 1-bit image of `width` x `height` dots."""
    p = _pango()
    with p.lock:
        surface = p.cairo.cairo_image_surface_create(_CAIRO_FORMAT_A8, width, height)
        cr = p.cairo.cairo_create(surface)
        try:
            for block, x, y in blocks:
                p.cairo.cairo_move_to(cr, float(x), float(y))
                p.pangocairo.pango_cairo_show_layout(cr, block.layout)
            p.cairo.cairo_surface_flush(surface)
            stride = p.cairo.cairo_image_surface_get_stride(surface)
            raw = bytes(
                p.ffi.buffer(p.cairo.cairo_image_surface_get_data(surface), stride * height)
            )
        finally:
            p.cairo.cairo_destroy(cr)
            p.cairo.cairo_surface_destroy(surface)
    coverage = Image.frombuffer("L", (stride, height), raw, "raw", "L", 0, 1).crop(
        (0, 0, width, height)
    )
    # Ink where at least half a pixel is covered; in mode "1", 0 is black.
    return coverage.point(_THRESHOLD, "1")


_THRESHOLD = [255 if a < 128 else 0 for a in range(256)]
