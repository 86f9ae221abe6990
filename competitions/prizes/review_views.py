"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("award_review", __name__, url_prefix="/awards")
