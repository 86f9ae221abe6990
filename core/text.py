"""Text helpers: accent- and case-insensitive matching of Vietnamese, cleaning, web links."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlparse

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``"Tổ trưởng "`` → ``"to truong"``: lower case, no diacritics (đ → d), single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip().lower()


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """ASCII words joined by hyphens, for file names: "Nguyễn Văn An" → "nguyen-van-an"."""
    return _NOT_SLUG.sub("-", fold(text)).strip("-")


def clean(text: str | None) -> str:
    """Trimmed, NFC-normalised text with inner runs of white space folded to one space."""
    if text is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


def is_web_link(link: str) -> bool:
    """An http:// or https:// address with a host (links people paste: groups, evidence)."""
    parsed = urlparse(link)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)
