"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the emulation boards (a leaderboard source) and connect the signals that move them."""
