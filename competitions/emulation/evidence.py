"""Evidence photos of activity reports (minh chứng): checked, stored and found again.

A photo is accepted as JPEG, PNG or WebP by its content (the leading "magic" bytes), never by the
name or the type the phone claims, and up to MAX_PHOTO_BYTES. It is then decoded and written again
with Pillow: turned upright, scaled down to MAX_SIDE pixels (phones send 4,000-pixel photos that a
cheap phone reviewing the queue would choke on), and stripped of its metadata, which holds the GPS
position where it was taken (often someone's home). It is stored under the EVIDENCE_DIR
setting with a random name ("3f/3f9c…e1.jpg": a two-character folder keeps folders small), so a
name says nothing and cannot be guessed; it is served only through the access-checked report route.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path
from typing import IO, Protocol

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps

from core.errors import ValidationError

MAX_PHOTO_MB = 5
MAX_SIDE = 1600  # pixels, the longer side of a stored photo
MAX_PIXELS = 60_000_000  # a larger image is refused before it is decoded (a decompression bomb)
MAX_PHOTO_BYTES = MAX_PHOTO_MB * 1024 * 1024
#: the extension a stored photo gets, and the media type it is served as
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_OPTIONS: dict[str, dict[str, object]] = {"jpg": {"quality": 85, "optimize": True}, "webp": {"quality": 85}}
_NAME = re.compile(r"^([0-9a-f]{2})/\1[0-9a-f]{30}\.(jpg|png|webp)$")


class Upload(Protocol):
    """What a form upload offers (werkzeug's FileStorage); tests pass the same."""

    stream: IO[bytes]


def sniff(head: bytes) -> str | None:
    """The photo's extension from its first bytes, or None when it is not a JPEG, PNG or WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
        return "webp"
    return None


def read_photo(upload: Upload) -> tuple[bytes, str]:
    """The photo's bytes and extension; a clear error for anything else (nothing is stored)."""
    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    if not data:
        raise ValidationError(_("Tệp ảnh minh chứng trống."), field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError(
            _("Ảnh minh chứng lớn quá %(mb)d MB; hãy chụp lại ở độ phân giải thấp hơn.", mb=MAX_PHOTO_MB),
            field="photo",
        )
    extension = sniff(data[:16])
    if extension is None:
        raise ValidationError(_("Ảnh minh chứng phải là ảnh JPEG, PNG hoặc WebP."), field="photo")
    return _rewritten(data, extension), extension


def _rewritten(data: bytes, extension: str) -> bytes:
    """The photo decoded and encoded again: upright, at most MAX_SIDE pixels, without metadata."""
    unreadable = ValidationError(_("Không đọc được ảnh minh chứng (tệp hỏng hoặc không phải ảnh)."), field="photo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise unreadable
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise unreadable from exc
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    if extension == "jpg" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    # no exif= / pnginfo= argument: Pillow then writes none of the original metadata
    upright.save(out, format=_FORMATS[extension], **_OPTIONS.get(extension, {}))
    return out.getvalue()


def _root() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


def save(data: bytes, extension: str) -> str:
    """Write a checked photo under a new random name and return that name."""
    token = secrets.token_hex(16)
    name = f"{token[:2]}/{token}.{extension}"
    path = _root() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    # "x": never overwrite (a clash of 128 random bits would be a bug, not bad luck)
    with path.open("xb") as out:
        out.write(data)
    return name


def path_of(name: str) -> Path | None:
    """Where a stored photo is, or None for a name this module never made or a missing file."""
    if not _NAME.match(name or ""):
        return None
    path = _root() / name
    return path if path.is_file() else None


def media_type(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[1]]


def discard(name: str) -> None:
    """Remove a photo stored for a report that was not written after all."""
    path = path_of(name)
    if path is not None:
        path.unlink(missing_ok=True)
