"""The language pages. Any staff member may see them, export a language's strings and
record phrases (interpreters and mediators have staff accounts); importing reviewed
translations, which changes what every screen says, is for admins.

A phrase is saved as WAV (16 kHz, mono, 16-bit), which the page's script makes from the
microphone; what is saved is heard at once by kiosks and displays.
"""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from server import i18n, recordings, translation_review
from server.auth import Can
from server.errors import BadRequest, Forbidden, Unauthenticated
from server.extensions import db, speech
from server.web import current_staff, i18n_pages, staff_required

MAX_BYTES = recordings.RATE * 2 * recordings.MAX_SECONDS + 1024
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": translation_review.XLSX_TYPE}


def _staff() -> int | None:
    staff = current_staff()
    if staff is None:
        raise Unauthenticated("sign in first")
    return staff.user_id


def _language(lang: str) -> i18n.Language:
    if lang not in i18n.LANGUAGES:
        raise BadRequest(f"no language '{lang}'", "bad_lang")
    return i18n.LANGUAGES[lang]


def _key() -> str:
    key = request.args.get("key", "")
    if not key:
        raise BadRequest("which phrase? ?key=...", "missing_key")
    return key


def _is_admin() -> bool:
    staff = current_staff()
    return staff is not None and any(staff.can(Can.MANAGE, s) for s in staff.site_ids)


@staff_required
def index() -> str:
    """Every visitor language: its translations, their review, its voice, its recordings."""
    rows = []
    for code, lang in i18n.LANGUAGES.items():
        if code in ("el", "en"):
            continue
        needed = recordings.wanted(db(), code)
        have = recordings.recorded(db(), code)
        rows.append(
            {
                "code": code,
                "name": lang.english,
                "native": lang.native,
                "translated": translation_review.translated_share(code),
                "review": translation_review.review(code),
                "engine": speech().can_speak(code),
                "recorded": sum(1 for w in needed if w.key in have),
                "needed": len(needed),
            }
        )
    return render_template(
        "languages/index.html", rows=rows, admin=_is_admin(), done=request.args.get("done")
    )


def export_strings(lang: str, fmt: str) -> Response:
    """A language's strings beside the English, as CSV or XLSX, for interpreters."""
    _staff()
    _language(lang)
    if fmt not in FORMATS:
        raise BadRequest("csv or xlsx", "bad_format")
    data = translation_review.export(lang, fmt)
    response = Response(data, content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="seira-{lang}.{fmt}"'
    return response


def import_strings(lang: str) -> Response:
    """The reviewed file back: the whole file or nothing, then every screen says it."""
    _staff()
    _language(lang)
    if not _is_admin():
        raise Forbidden("only an administrator may change the translations")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("choose the reviewed file", "missing_file")
    fmt = upload.filename.rsplit(".", 1)[-1].lower()
    reviewer = request.form.get("reviewer", "").strip() or None
    try:
        rows = translation_review.read_rows(upload.read(), fmt)
        changed = translation_review.import_reviewed(lang, rows, reviewer)
    except translation_review.ReviewError as exc:
        raise BadRequest(str(exc), "bad_file") from None
    translation_review.write_status()
    i18n.forget()
    return redirect(url_for("languages.index", done=f"{lang}:{changed}"))


@staff_required
def phrases(lang: str) -> str:
    language = _language(lang)
    have = recordings.recorded(db(), lang)
    rows = [
        {
            "key": w.key,
            "text": w.text,
            "english": w.english,
            "group": w.group,
            "done": w.key in have,
        }
        for w in recordings.wanted(db(), lang)
    ]
    groups = {
        "kiosk": i18n_pages.gettext("What the kiosk says"),
        "reasons": i18n_pages.gettext("Visit reasons on the kiosk"),
        "call": i18n_pages.gettext("The words of a call on the display"),
    }
    return render_template(
        "languages/phrases.html",
        lang=i18n.language(language.code),
        phrases=rows,
        groups=groups,
        engine=speech().can_speak(lang),
    )


def play(lang: str) -> Response:
    _staff()
    audio = recordings.audio(db(), lang, _key())
    if audio is None:
        raise BadRequest("not recorded yet", "not_recorded")
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "no-store"})


def save(lang: str) -> tuple[str, int]:
    user = _staff()
    data = request.get_data(cache=False)
    if len(data) > MAX_BYTES:
        raise BadRequest("the recording is too long", "bad_audio")
    recordings.save(db(), lang, _key(), data, user)
    return "", 204


def remove(lang: str) -> tuple[str, int]:
    _staff()
    recordings.remove(db(), lang, _key())
    return "", 204
