"""Vietnamese text helpers: accent- and case-insensitive matching."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``"Tổ trưởng "`` → ``"to truong"``: lower case, no diacritics (đ → d), single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip().lower()


def clean(text: str | None) -> str:
    """Trimmed, NFC-normalised text with inner runs of white space folded to one space."""
    if text is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text))).strip()
