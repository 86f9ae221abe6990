"""Results, rankings, exports and round statistics."""

from __future__ import annotations

from flask import Blueprint

results_bp = Blueprint("results", __name__)
