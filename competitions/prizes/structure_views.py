"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("awards", __name__, url_prefix="/awards")
