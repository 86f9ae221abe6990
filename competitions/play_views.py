"""The round page, taking a quiz, and the JSON API the quiz page uses."""

from __future__ import annotations

from flask import Blueprint

play_bp = Blueprint("play", __name__)
api_bp = Blueprint("api", __name__, url_prefix="/api")
