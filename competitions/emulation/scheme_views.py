"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("schemes", __name__, url_prefix="/emulation/schemes")
