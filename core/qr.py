"""QR codes for projector screens (a round's page, a contest's join link), as inline SVG."""

from __future__ import annotations

from io import BytesIO

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(url: str) -> Markup:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return Markup(svg[svg.index("<svg"):])  # noqa: S704 - made by qrcode from the app's own URL, no user input
