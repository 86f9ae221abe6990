"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("prize_results", __name__, url_prefix="/prizes")
