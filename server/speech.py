"""Offline speech: text in a language to a WAV file, for the wall display and the kiosk.

An engine is anything with `voice_for(lang)` and `synthesize(text, voice) -> bytes`; the
shipped one runs espeak-ng (Debian's `espeak-ng`), which is instant and has voices for most
languages the centres hear. Results are cached per (voice, text) in memory and on disk, so
an announcement heard once is never synthesized again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from . import i18n

MAX_TEXT = 400
MEMORY_ITEMS = 256


class SpeechError(RuntimeError):
    """No engine, no voice, or the engine failed."""


class Engine(Protocol):
    name: str

    def voice_for(self, lang: str) -> str | None: ...

    def synthesize(self, text: str, voice: str) -> bytes: ...


class EspeakEngine:
    """espeak-ng through its command line: one short process per new phrase."""

    name = "espeak-ng"

    def __init__(self, binary: str | None = None, speed_wpm: int = 140) -> None:
        self.binary = binary or shutil.which("espeak-ng") or ""
        self.speed = speed_wpm

    def voice_for(self, lang: str) -> str | None:
        return i18n.language(lang).voice if lang in i18n.LANGUAGES else None

    def synthesize(self, text: str, voice: str) -> bytes:
        if not self.binary:
            raise SpeechError("espeak-ng is not installed (Debian package espeak-ng)")
        done = subprocess.run(
            [self.binary, "-v", voice, "-s", str(self.speed), "--stdout", text],
            capture_output=True,
            timeout=10,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            raise SpeechError(f"espeak-ng failed for voice {voice}: {done.stderr[:200]!r}")
        return done.stdout


class Speech:
    """Cached synthesis in front of an engine."""

    def __init__(self, engine: Engine, cache_dir: Path | None = None) -> None:
        self.engine = engine
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def can_speak(self, lang: str) -> bool:
        return self.engine.voice_for(lang) is not None

    def wav(self, text: str, lang: str) -> bytes:
        """The WAV of `text` read in `lang`; SpeechError if the language has no voice."""
        text = " ".join(text.split())
        if not text or len(text) > MAX_TEXT:
            raise SpeechError(f"text must be 1 to {MAX_TEXT} characters")
        voice = self.engine.voice_for(lang)
        if voice is None:
            raise SpeechError(f"no voice for language '{lang}'")
        key = hashlib.sha256(f"{self.engine.name}\0{voice}\0{text}".encode()).hexdigest()
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        audio = self._from_disk(key)
        if audio is None:
            audio = self.engine.synthesize(text, voice)
            self._to_disk(key, audio)
        with self._lock:
            self._memory[key] = audio
            while len(self._memory) > MEMORY_ITEMS:
                self._memory.popitem(last=False)
        return audio

    def _path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.wav"

    def _from_disk(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path is not None and path.exists() else None

    def _to_disk(self, key: str, audio: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(audio)
        partial.replace(path)  # readers never see half a file
