"""Sending generated files to the browser."""

from __future__ import annotations

import io

from flask import send_file
from werkzeug.wrappers import Response

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(data: bytes, filename: str) -> Response:
    """An .xlsx built in memory, offered as a download named ``filename``."""
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
